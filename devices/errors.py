from core.errors import ErrorCode


class DeviceErrorCode(ErrorCode):
    ENDPOINT_NOT_ALLOWED = "endpoint_not_allowed"
    INVALID_DEVICE = "invalid_device"
    WEBPUSH_NOT_CONFIGURED = "webpush_not_configured"
