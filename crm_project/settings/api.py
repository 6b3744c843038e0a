"""The REST API's settings (DRF and its OpenAPI document), part of `base.py`."""

from crm_project.settings.environment import env, env_int

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.JWTAuthentication",  # simplejwt's, user read by a prebuilt statement
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.renderers.JSONRenderer",  # DRF's output, encoded by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",  # DRF's, with Django's body-size cap applied
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # pages, error responses, formats as sent
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "user": f"{env_int('RATE_LIMIT_MAX_REQUESTS', 600)}/min",
        "anon": f"{env_int('RATE_LIMIT_ANON_REQUESTS', 120)}/min",
        "login_account": env("LOGIN_RATE_PER_ACCOUNT", "5/min"),
        "login_address": env("LOGIN_RATE_PER_ADDRESS", "20/min"),
        "password_reset": env("PASSWORD_RESET_RATE", "5/hour"),
    },
    # Throttles identify anonymous clients by REMOTE_ADDR, which core.edge already took from a trusted
    # proxy's X-Forwarded-For where there is one. Left at None, DRF would believe anyone's header.
    "NUM_PROXIES": 0,
    # DRF's user/anon rates, counted with atomic Redis counters (core/throttling.py)
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.UserRateThrottle",
        "core.throttling.AnonRateThrottle",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # `?format=csv` selects an export format in our views, not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Consultancy CRM API",
    "DESCRIPTION": (
        "Leads, appointments, documents and real-time messaging for an education consultancy.\n\n"
        'Every error answers `{"error": {"code", "message", "details"}}`; lists answer '
        '`{"results": [...], "next": url|null}`. The WebSocket protocol at `/ws/` is described by the '
        "[AsyncAPI document](/api/ws-schema); [ReDoc](/api-redoc) shows this same schema; client guide: "
        "docs/quickstart-clients.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.schema.postprocess"],
    # Swagger UI and ReDoc from the pinned drf-spectacular-sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ConversationTypeEnum": "messaging.models.ConversationType",
        "MessageTypeEnum": "messaging.models.MessageType",
        "SendableMessageTypeEnum": ["text", "image", "video", "file"],
        "RoleEnum": "accounts.models.Role",
        "LeadStatusEnum": "leads.models.LeadStatus",
        "LeadSourceEnum": "leads.models.LeadSource",
        "AppointmentStatusEnum": "appointments.models.AppointmentStatus",
        "TriageStatusEnum": "messaging.models.TriageStatus",
        "AppointmentOutcomeEnum": ["completed", "no_show"],
        "DocumentStatusEnum": "documents.models.DocumentStatus",
        "ReviewDecisionEnum": ["approved", "rejected"],
        "DocumentKindEnum": "documents.models.DocumentKind",
        "DeviceKindEnum": "devices.models.DeviceKind",
        "ApplicationStatusEnum": "applications.transitions.ApplicationStatus",
        "StudyLevelEnum": "study.vocabulary.StudyLevel",
        "EducationLevelEnum": "study.vocabulary.EducationLevel",
        "ChecklistItemStateEnum": ["missing", "pending", "approved", "rejected"],
        "TaskStatusEnum": "followups.models.TaskStatus",
    },
}
