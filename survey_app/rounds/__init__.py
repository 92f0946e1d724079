"""Blind double-coding rounds (pages under /rounds; services in lifecycle, agreement and
reconciliation).

A researcher opens a round on current transcript versions for two or more coders. While it is
open each coder sees only their own codings (survey_app.codings.operations is the rule) and
the round's pages show nobody else's. The last "done" closes the round and freezes the
coders' original codings in the audit trail; agreement (coding.agreement) is computed on that
snapshot as a background job; reconciliation records keep/drop decisions that create
consensus codings beside the originals.
"""
