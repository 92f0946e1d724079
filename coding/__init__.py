"""Text work for Milieu, no web: segmentation, theme classifier, active learning, agreement.

Entry points:
- ``coding.codebook.load_codebook`` / ``default_codebook``: the versioned 4D codebook.
- ``coding.segment.normalise_text``, ``split_turns``, ``segment``, ``segment_transcript``.
- ``coding.classifier.make_candidate`` (the pipelines of ``CANDIDATES``) and
  ``coding.model.train_model`` (model selection by grouped cross-validation, see
  ``coding.selection``), ``save_model``, ``load_model``, ``cross_validate``;
  ``coding.predict.iter_scores`` for large inputs, ``coding.predict.decide`` with a precision
  floor (``coding.precision``).
- ``coding.active.next_to_code``: the next segments to code.
- ``coding.agreement.agreement_table`` (+ ``spans_to_units``, ``spans_to_documents``).
- ``coding.commands.coding_group``: the ``milieu coding`` commands.
"""
