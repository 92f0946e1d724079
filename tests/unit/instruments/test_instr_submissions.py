"""ODK Central / KoboToolbox CSV exports: mapped to question keys, all or nothing."""

import io
from pathlib import Path

import pytest

from survey_app.instruments.definitions import DONT_KNOW, NOT_ASKED, REFUSED, load_instrument
from survey_app.instruments.submissions import SubmissionsError, parse_submissions_csv

MINI = load_instrument(Path(__file__).with_name("mini_instrument.yaml"))

ODK_HEADER = (
    "SubmissionDate,consentement-consent_data,consentement-consent_participation,"
    "consentement-consent_audio,main-exports,main-share,main-modes,main-agent_where,main-q1,"
    "main-q1_why,main-score,main-since,meta-instanceID,KEY,SubmitterID,SubmitterName,"
    "AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion"
)
ODK_ROWS = [
    "2024-05-02T09:12:00.000Z,yes,yes,no,yes,35,direct agent,Milan,4,"
    '"Trop de guichets, vraiment",2.5,2019-03-01,'
    "uuid:aaa,uuid:aaa,5,Marie,0,0,,approved,collect:X,0,1.0",
    "2024-05-03T10:00:00.000Z,yes,yes,yes,no,,,,dont_know,,,,"
    "uuid:bbb,uuid:bbb,5,Marie,0,0,,,collect:X,0,1.0",
]


def odk_csv(*rows: str) -> str:
    return "\n".join([ODK_HEADER, *rows]) + "\n"


def test_odk_central_export_is_mapped():
    records = parse_submissions_csv(io.StringIO(odk_csv(*ODK_ROWS)), MINI)
    first, second = records
    assert first["row"] == 2 and first["instance_id"] == "uuid:aaa"
    assert first["submitted_at"] == "2024-05-02T09:12:00.000Z"
    assert first["answers"]["share"] == 35
    assert first["answers"]["modes"] == ["direct", "agent"]
    assert first["answers"]["q1_why"] == "Trop de guichets, vraiment"
    assert first["answers"]["score"] == 2.5 and first["answers"]["since"] == "2019-03-01"
    assert first["meta"]["SubmitterName"] == "Marie"
    assert second["answers"]["share"] == NOT_ASKED and second["answers"]["q1"] == DONT_KNOW
    assert second["answers"]["q1_why"] == NOT_ASKED and second["answers"]["score"] is None


def test_kobo_export_with_split_select_multiple_and_semicolons(tmp_path):
    header = (
        "start;end;consentement/consent_data;consentement/consent_participation;main/exports;"
        "main/share;main/modes/direct;main/modes/agent;main/modes/filiale;main/agent_where;main/q1;"
        "_id;_uuid;_submission_time;_validation_status;_status;_submitted_by;__version__;_index"
    )
    row = (
        "2024-05-02T09:00:00;2024-05-02T10:00:00;yes;yes;yes;12;0;1;1;refused;2;"
        "101;0f1e;2024-05-02T10:01:00;;submitted_via_web;;vXYZ;1"
    )
    path = tmp_path / "kobo.csv"
    path.write_bytes(("\ufeff" + header + "\n" + row + "\n").encode("utf-8"))
    [record] = parse_submissions_csv(path, MINI)
    assert record["instance_id"] == "0f1e"
    assert record["answers"]["modes"] == ["agent", "filiale"]
    assert record["answers"]["agent_where"] == REFUSED
    assert record["answers"]["share"] == 12


def test_refused_consent_row_is_kept_with_nothing_asked():
    row = ODK_ROWS[1].replace("yes,yes,yes,no,,,,dont_know,", "yes,no,,,,,,,")
    [record] = parse_submissions_csv(io.StringIO(odk_csv(row)), MINI)
    assert record["answers"]["consent_participation"] == "no"
    assert record["answers"]["exports"] == NOT_ASKED and record["answers"]["q1"] == NOT_ASKED


def test_answers_without_consent_are_refused():
    row = ODK_ROWS[0].replace(
        "2024-05-02T09:12:00.000Z,yes,yes,", "2024-05-02T09:12:00.000Z,yes,no,"
    )
    with pytest.raises(SubmissionsError, match="row 2, column 'consentement-consent_data'"):
        parse_submissions_csv(io.StringIO(odk_csv(row)), MINI)


def test_one_bad_row_refuses_the_whole_file_naming_row_and_column():
    bad = ODK_ROWS[1].replace(",no,,,,dont_know,", ",yes,140,,,7,")
    with pytest.raises(SubmissionsError) as info:
        parse_submissions_csv(io.StringIO(odk_csv(ODK_ROWS[0], bad)), MINI)
    problems = {(p.row, p.column) for p in info.value.problems}
    assert problems == {(3, "main-share"), (3, "main-q1")}
    message = str(info.value)
    assert "nothing imported" in message
    assert "row 3, column 'main-share': Between 0 and 100." in message
    assert "row 3, column 'main-q1': Unknown choice: '7'." in message


def test_every_refused_value_is_listed():
    bad1 = ODK_ROWS[0].replace(",35,", ",abc,")
    bad2 = (
        ODK_ROWS[1].replace("uuid:bbb,uuid:bbb", "uuid:aaa,uuid:aaa").replace(",dont_know,", ",,")
    )
    with pytest.raises(SubmissionsError) as info:
        parse_submissions_csv(io.StringIO(odk_csv(bad1, bad2)), MINI)
    assert [(p.row, p.column) for p in info.value.problems] == [
        (2, "main-share"),
        (3, "main-q1"),
        (3, "instanceID"),
    ]
    assert "An answer is required." in str(info.value)


def test_unknown_column_is_refused():
    text = odk_csv(*ODK_ROWS).replace("main-since", "main-sinse")
    with pytest.raises(SubmissionsError, match=r"row 1, column 'main-sinse': no question"):
        parse_submissions_csv(io.StringIO(text), MINI)


def test_label_headers_are_refused_with_advice():
    text = "Exporte ?,Part export\nOui,12\n"
    with pytest.raises(SubmissionsError, match="export with XML names"):
        parse_submissions_csv(io.StringIO(text), MINI)


def test_bad_split_column_value():
    header = "consent_data,consent_participation,exports,share,modes/agent,q1,_uuid"
    with pytest.raises(SubmissionsError, match=r"row 2, column 'modes/agent': expected 0 or 1"):
        parse_submissions_csv(io.StringIO(f"{header}\nyes,yes,yes,5,maybe,3,u1\n"), MINI)


def test_cp1252_file_from_excel_is_read(tmp_path):
    row = ODK_ROWS[0].replace("Milan", "Sàrl Bâle")
    path = tmp_path / "excel.csv"
    path.write_bytes(odk_csv(row).encode("cp1252"))
    [record] = parse_submissions_csv(path, MINI)
    assert record["answers"]["agent_where"] == "Sàrl Bâle"


def test_empty_file_is_refused():
    with pytest.raises(SubmissionsError, match="empty"):
        parse_submissions_csv(io.BytesIO(b""), MINI)
