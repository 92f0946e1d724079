"""The OpenAPI 3.1 description of the read-only API, written by hand."""

from __future__ import annotations

from typing import Any

from survey_app.exports.operations import FORMATS, TERRITORY_LEVELS
from survey_app.models.fieldwork import INTERVIEW_STATUSES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
INTERVIEW_ID = {
    "name": "interview_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
    "description": "Interview id.",
}
JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
    "description": "Export job id (the `job` of a 202 answer).",
}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
    },
]
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}


def _schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                }
            },
        },
        "Interview": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "status": {"enum": list(INTERVIEW_STATUSES)},
                "interview_date": {"type": ["string", "null"], "format": "date"},
                "organisation": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "pseudonym": {"type": "string"},
                        "kind": {"enum": ["sme", "relay"]},
                    },
                },
                "instrument": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "version": {"type": "string"},
                        "respondent_type": {"enum": ["sme", "relay"]},
                    },
                },
                "fieldworker": {"type": "string"},
                "created_dt": {"type": "string", "format": "date-time"},
                "updated_dt": {"type": "string", "format": "date-time"},
                "submitted_dt": {"type": ["string", "null"], "format": "date-time"},
                "transcript": {
                    "type": ["object", "null"],
                    "properties": {
                        "version_id": {"type": "integer"},
                        "number": {"type": "integer"},
                        "sha256": {"type": "string"},
                        "characters": {"type": "integer"},
                    },
                },
            },
        },
        "Answer": {
            "type": "object",
            "properties": {
                "question_key": {"type": "string"},
                "value": NULLABLE_STRING,
                "missing": {"enum": ["dont_know", "refused", "not_asked", None]},
            },
        },
        "Coding": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "start": {"type": "integer", "description": "Code point offset, inclusive."},
                "end": {"type": "integer", "description": "Code point offset, exclusive."},
                "text": {"type": "string"},
                "code": {"type": "string"},
                "family": {
                    "type": "string",
                    "description": "GOVERNANCE, STRATEGY, DYNAMICS, OTHER, or IMPORTED for "
                    "a code brought from another QDA tool under its own name.",
                },
                "coder": NULLABLE_STRING,
                "source": {"enum": ["human", "model", "consensus"]},
                "status": {"type": "string"},
                "confidence": NULLABLE_NUMBER,
                "valence": NULLABLE_INT,
                "intensity": NULLABLE_INT,
                "round_id": NULLABLE_INT,
                "created_dt": {"type": "string", "format": "date-time"},
                "memo": {
                    "type": "string",
                    "description": "The coder's memo on this coding (empty when none); "
                    "imported with REFI-QDA notes.",
                },
            },
        },
        "Organisation": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "pseudonym": {"type": "string"},
                "kind": {"enum": ["sme", "relay"]},
                "name": {"type": "string"},
                "naf_code": NULLABLE_STRING,
                "size_band": NULLABLE_STRING,
                "export_share": NULLABLE_NUMBER,
                "relay_category": NULLABLE_STRING,
                "territory_code": NULLABLE_STRING,
            },
        },
    }


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _paths() -> dict[str, Any]:
    not_found = {"404": {"$ref": "#/components/responses/NotFound"}}
    bad = {"400": {"$ref": "#/components/responses/BadRequest"}}
    return {
        "/api/openapi.json": {
            "get": {
                "summary": "This description.",
                "security": [],
                "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
        "/api/interviews": {
            "get": {
                "summary": "Interviews you may see (a fieldworker: their own), by id.",
                "operationId": "listInterviews",
                "parameters": [
                    *PAGING,
                    {"name": "status", "in": "query", "schema": {"enum": list(INTERVIEW_STATUSES)}},
                ],
                "responses": {
                    "200": _json(_page_of("Interview"), "One page of interviews."),
                    **bad,
                    **ERRORS,
                },
            }
        },
        "/api/interviews/{interview_id}": {
            "get": {
                "summary": "One interview.",
                "operationId": "getInterview",
                "parameters": [INTERVIEW_ID],
                "responses": {
                    "200": _json(_ref("Interview"), "The interview."),
                    **ERRORS,
                    **not_found,
                },
            }
        },
        "/api/interviews/{interview_id}/answers": {
            "get": {
                "summary": "The interview's answers, one row per question (long form).",
                "operationId": "getAnswers",
                "parameters": [INTERVIEW_ID],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "interview_id": {"type": "integer"},
                                "answers": {"type": "array", "items": _ref("Answer")},
                            },
                        },
                        "The answers.",
                    ),
                    **ERRORS,
                    **not_found,
                },
            }
        },
        "/api/interviews/{interview_id}/codings": {
            "get": {
                "summary": "Codings of the current transcript version that you may see (a coder "
                "of an open blind round sees only their own; fieldworkers none).",
                "operationId": "getCodings",
                "parameters": [INTERVIEW_ID],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "interview_id": {"type": "integer"},
                                "transcript_version_id": NULLABLE_INT,
                                "codings": {"type": "array", "items": _ref("Coding")},
                            },
                        },
                        "The codings.",
                    ),
                    **ERRORS,
                    **not_found,
                },
            }
        },
        "/api/organisations": {
            "get": {
                "summary": "Organisations (SMEs and relay actors).",
                "operationId": "listOrganisations",
                "parameters": PAGING,
                "responses": {
                    "200": _json(_page_of("Organisation"), "One page of organisations."),
                    **bad,
                    **ERRORS,
                },
            }
        },
        "/api/exports/{fmt}": {
            "get": {
                "summary": "The project as one file of the format, built while you wait "
                "(researchers and admins). Formats whose data dictionary is written "
                "beside the file (sav, dta, qdc) come zipped with it.",
                "operationId": "export",
                "parameters": [
                    {
                        "name": "fmt",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": list(FORMATS)},
                    },
                    {
                        "name": "tables",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "Comma-separated tables (csv, parquet, xlsx).",
                    },
                    {"name": "pseudonymise", "in": "query", "schema": {"type": "boolean"}},
                    {
                        "name": "territory_level",
                        "in": "query",
                        "schema": {"enum": list(TERRITORY_LEVELS), "default": "commune"},
                    },
                    {"name": "coarsen_roles", "in": "query", "schema": {"type": "boolean"}},
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment.",
                        "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                        "content": {
                            "application/octet-stream": {
                                "schema": {
                                    "type": "string",
                                    "contentMediaType": "application/octet-stream",
                                }
                            }
                        },
                    },
                    **bad,
                    **ERRORS,
                    **not_found,
                    "202": _json(
                        {
                            "type": "object",
                            "properties": {
                                "ok": {"type": "boolean"},
                                "job": {"type": "integer"},
                                "status": {"type": "string"},
                                "url": {"type": "string"},
                            },
                        },
                        "With pseudonymise: the export runs as a job; poll `url` "
                        "(also in the Location header).",
                    ),
                    "413": _json(_ref("Error"), "Too many interviews for a synchronous export."),
                },
            }
        },
        "/api/exports/jobs/{job_id}": {
            "get": {
                "summary": "An export job you started: status, progress, error, and once "
                "done the URLs of its files.",
                "operationId": "export_job",
                "parameters": [JOB_ID],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": {"enum": ["queued", "running", "done", "failed"]},
                                "progress": {"type": "number"},
                                "message": {"type": "string"},
                                "error": {"type": ["string", "null"]},
                                "downloads": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                        "The job.",
                    ),
                    **ERRORS,
                    **not_found,
                },
            }
        },
        "/api/exports/jobs/{job_id}/files/{name}": {
            "get": {
                "summary": "One file of a finished export job.",
                "operationId": "export_job_file",
                "parameters": [
                    JOB_ID,
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "The file, as an attachment."},
                    **ERRORS,
                    **not_found,
                },
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of /api."""
    error = _json(_ref("Error"), "")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Milieu read-only API",
            "version": "1.0.0",
            "description": "Interviews, answers, codings, organisations and exports, "
            "with the permissions of the token's owner. Create tokens on "
            "the API tokens page; send `Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
            "responses": {
                "BadRequest": {**error, "description": "A parameter is invalid."},
                "Unauthorized": {**error, "description": "No token, or an unknown or revoked one."},
                "Forbidden": {**error, "description": "Your role may not use this endpoint."},
                "NotFound": {**error, "description": "No such object, or not one you may see."},
            },
        },
    }
