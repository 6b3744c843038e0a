"""WebSocket routes. The consumer lives in messaging.consumers."""

websocket_urlpatterns: list = []
