"""The OpenAPI 3 description of API v1, served at /api/v1/openapi.json."""

from leads.api.blueprint import bp
from leads.models import Condition, ConsultationStatus, LeadStatus, MessageStatus

STRING = {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
UUID = {"type": "string", "format": "uuid"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(description: str, schema: dict) -> dict:
    return {"description": description, **_json(schema)}


ERROR = _answer("An error, said plainly", _ref("Error"))
FIELD_ERRORS = _answer("Invalid fields, each with its message", _ref("FieldErrors"))
AUTH_ERRORS = {"401": ERROR}
BODY_ERRORS = {"400": ERROR, "413": ERROR, "415": ERROR, "422": FIELD_ERRORS}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": STRING}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": STRING}},
    "FieldErrors": {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "object", "additionalProperties": STRING}},
    },
    "Inquiry": {
        "type": "object",
        "required": ["first_name", "last_name", "email", "phone", "preferred_contact", "condition", "consent"],
        "properties": {
            "first_name": {"type": "string", "maxLength": 100},
            "last_name": {"type": "string", "maxLength": 100},
            "email": {"type": "string", "maxLength": 254},
            "phone": {"type": "string", "maxLength": 40},
            "preferred_contact": {"type": "string", "enum": ["phone", "email", "text"]},
            "condition": {
                "type": "string",
                "enum": ["migraine", "depression", "anxiety", "ptsd", "chronic_pain", "other"],
            },
            "message": {"type": "string", "maxLength": 5000},
            "heard_about": {"type": "string", "maxLength": 200},
            "consent": {"type": "boolean", "enum": [True]},
            "utm_source": {"type": "string", "maxLength": 200},
            "utm_medium": {"type": "string", "maxLength": 200},
            "utm_campaign": {"type": "string", "maxLength": 200},
            "referrer": {"type": "string", "maxLength": 2000},
            "clinic": {"type": "string", "description": "A clinic's slug; the default clinic when absent."},
        },
    },
    "InquiryAccepted": {"type": "object", "required": ["id"], "properties": {"id": UUID}},
    "Lead": {
        "type": "object",
        "required": ["id", "first_name", "last_name", "email", "phone", "status", "created_at"],
        "properties": {
            "id": UUID,
            "first_name": STRING,
            "last_name": STRING,
            "email": STRING,
            "phone": STRING,
            "status": {"type": "string", "enum": [status.value for status in LeadStatus]},
            "clinic": STRING,
            "preferred_contact": STRING,
            "condition": STRING,
            "source": STRING,
            "assignee": NULLABLE_STRING,
            "created_at": TIME,
            "updated_at": TIME,
            "last_contacted_at": NULLABLE_TIME,
        },
    },
    "LeadPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("Lead")}, "next_cursor": NULLABLE_STRING},
    },
    "Event": {
        "type": "object",
        "required": ["id", "kind", "actor", "data", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": STRING,
            "actor": STRING,
            "data": {"type": "object"},
            "created_at": TIME,
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "kind", "status", "send_at", "sent_at", "attempts", "last_error"],
        "properties": {
            "id": UUID,
            "lead": UUID,
            "kind": STRING,
            "recipient": STRING,
            "status": {"type": "string", "enum": [status.value for status in MessageStatus]},
            "send_at": TIME,
            "sent_at": NULLABLE_TIME,
            "attempts": {"type": "integer"},
            "last_error": NULLABLE_STRING,
        },
    },
    "MessageList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("Message")}},
    },
    "Consultation": {
        "type": "object",
        "required": ["id", "lead", "starts_at", "timezone", "duration_minutes", "status"],
        "properties": {
            "id": UUID,
            "lead": UUID,
            "starts_at": TIME,
            "timezone": STRING,
            "duration_minutes": {"type": "integer"},
            "status": {"type": "string", "enum": [status.value for status in ConsultationStatus]},
        },
    },
    "LeadDetail": {
        "allOf": [
            _ref("Lead"),
            {
                "type": "object",
                "required": ["events", "messages", "consultations"],
                "properties": {
                    "message": STRING,
                    "heard_about": STRING,
                    "consent_text": STRING,
                    "consent_at": TIME,
                    "events": {"type": "array", "items": _ref("Event")},
                    "messages": {"type": "array", "items": _ref("Message")},
                    "consultations": {"type": "array", "items": _ref("Consultation")},
                },
            },
        ]
    },
    "LeadChange": {
        "type": "object",
        "description": "A status change (with a reason when closing), an assignment, or both.",
        "properties": {
            "status": {"type": "string", "enum": [status.value for status in LeadStatus]},
            "reason": {"type": "string", "maxLength": 1000},
            "assignee": {"type": "string", "nullable": True, "description": "A coordinator's email, or null."},
        },
    },
    "Note": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 5000}},
    },
    "Booking": {
        "type": "object",
        "required": ["starts_at"],
        "properties": {
            "starts_at": {
                "type": "string",
                "description": "ISO-8601; without an offset it is the clinic's local time.",
            },
            "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
        },
    },
    "ConsultationChange": {
        "type": "object",
        "description": "starts_at to reschedule, or a status to cancel or record the outcome.",
        "properties": {
            "starts_at": STRING,
            "status": {"type": "string", "enum": ["cancelled", "completed", "no_show"]},
        },
    },
}

LEAD_STATUS_PARAM = _query("status", {"type": "string", "enum": [s.value for s in LeadStatus]}, "Only this status.")

PATHS = {
    "/api/v1/inquiries": {
        "post": {
            "summary": "Submit an inquiry (public; rate limited per client address)",
            "security": [],
            "requestBody": {"required": True, **_json(_ref("Inquiry"))},
            "responses": {
                "201": _answer("The inquiry was recorded", _ref("InquiryAccepted")),
                **BODY_ERRORS,
                "429": ERROR,
            },
        }
    },
    "/api/v1/leads": {
        "get": {
            "summary": "Leads, newest first, one page at a time",
            "parameters": [
                LEAD_STATUS_PARAM,
                _query("clinic", STRING, "Only this clinic's (slug)."),
                _query("condition", {"type": "string", "enum": [c.value for c in Condition]}, "Only this condition."),
                _query("source", STRING, "Only this source (utm_source, or web/api)."),
                _query("assignee", STRING, "A coordinator's email, or `none` for unassigned leads."),
                _query("created_from", {"type": "string", "format": "date"}, "Created on or after this day."),
                _query("created_to", {"type": "string", "format": "date"}, "Created on or before this day."),
                _query("sort", {"type": "string", "enum": ["newest", "oldest"]}, "Order (newest)."),
                _query("q", STRING, "Search in names, email and phone."),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (25)."),
                _query("cursor", STRING, "The next_cursor of the previous page."),
            ],
            "responses": {"200": _answer("A page of leads", _ref("LeadPage")), "422": FIELD_ERRORS, **AUTH_ERRORS},
        }
    },
    "/api/v1/leads/{id}": {
        "parameters": [_path_id("id")],
        "get": {
            "summary": "A lead with its timeline, emails and consultations (the read is recorded)",
            "responses": {"200": _answer("The lead", _ref("LeadDetail")), "404": ERROR, **AUTH_ERRORS},
        },
        "patch": {
            "summary": "Change a lead's status or assignee",
            "requestBody": {"required": True, **_json(_ref("LeadChange"))},
            "responses": {
                "200": _answer("The lead after the change", _ref("LeadDetail")),
                "404": ERROR,
                "409": _answer("The lifecycle does not allow this change", _ref("Error")),
                **BODY_ERRORS,
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/leads/{id}/notes": {
        "parameters": [_path_id("id")],
        "post": {
            "summary": "Add a note to the lead's timeline",
            "requestBody": {"required": True, **_json(_ref("Note"))},
            "responses": {"201": _answer("The note", _ref("Event")), "404": ERROR, **BODY_ERRORS, **AUTH_ERRORS},
        },
    },
    "/api/v1/leads/{id}/consultations": {
        "parameters": [_path_id("id")],
        "post": {
            "summary": "Book the lead's consultation (sends the confirmation and schedules reminders)",
            "requestBody": {"required": True, **_json(_ref("Booking"))},
            "responses": {
                "201": _answer("The consultation", _ref("Consultation")),
                "404": ERROR,
                "409": ERROR,
                **BODY_ERRORS,
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/consultations/{id}": {
        "parameters": [_path_id("id")],
        "patch": {
            "summary": "Reschedule, cancel, or record the outcome of a consultation",
            "requestBody": {"required": True, **_json(_ref("ConsultationChange"))},
            "responses": {
                "200": _answer("The consultation", _ref("Consultation")),
                "404": ERROR,
                "409": ERROR,
                **BODY_ERRORS,
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/messages": {
        "get": {
            "summary": "Emails of the outbox, newest first",
            "parameters": [
                _query("lead", STRING, "Only this lead's."),
                _query("status", {"type": "string", "enum": [s.value for s in MessageStatus]}, "Only this status."),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "How many (25)."),
            ],
            "responses": {
                "200": _answer("Messages", _ref("MessageList")),
                "404": ERROR,
                "422": FIELD_ERRORS,
                **AUTH_ERRORS,
            },
        }
    },
}

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {
        "title": "leads API",
        "version": "1",
        "description": "Consultation leads: the public inquiry endpoint and the coordinator API.",
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"bearer": []}],
    "paths": PATHS,
}


@bp.get("/openapi.json")
def openapi_document():
    return DOCUMENT
