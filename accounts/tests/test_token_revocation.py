"""A password change or reset ends every session of the user: access tokens over REST and the socket
(a new socket with an old token is refused, an open one is closed), refresh tokens, the console too."""

import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD
from conftest import access_token_for
from crm_project.asgi import application

NEW = "Brand-new-Passphrase-9"


def change_password(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    response = client.post("/api/v1/auth/password", {"old_password": PASSWORD, "new_password": NEW})
    assert response.status_code == 200
    return response.json()


def reset_password(user):
    client = APIClient()
    assert client.post("/api/v1/auth/password/reset", {"email": user.email}).status_code == 202
    code = re.search(r"paste this code in the app: (\S+)", mail.outbox[-1].body).group(1)
    assert client.post("/api/v1/auth/password/reset/confirm", {"code": code, "new_password": NEW}).status_code == 204


def me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/auth/me")


@pytest.mark.django_db
@pytest.mark.parametrize("how", [change_password, reset_password])
def test_rest_access_tokens_die_with_the_password(consultant, how):
    old = access_token_for(consultant)
    assert me(old).status_code == 200  # verified and remembered by this process: the check must still run
    answer = how(consultant)
    refused = me(old)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_invalid"
    if answer:  # a change answers a new pair, which works
        assert me(answer["access"]).status_code == 200


@pytest.mark.django_db
def test_the_consoles_password_change_ends_the_api_sessions_too(client, manager):
    old = access_token_for(manager)
    client.force_login(manager)
    response = client.post(
        "/admin/password_change/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/password_change/done/"
    assert client.get("/admin/").status_code == 200  # the console session itself stays signed in
    assert me(old).status_code == 401


async def socket_with(token):
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    connected, code = await communicator.connect()
    if connected:
        assert (await communicator.receive_json_from(timeout=3))["event"] == "ready"
    else:  # refused in the handshake: what a revoked token gets
        communicator.__dict__["refused"] = code
    return communicator


async def ping(communicator):
    await communicator.send_json_to({"event": "ping", "id": "p"})
    return (await communicator.receive_json_from(timeout=3))["event"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("how", [change_password, reset_password])
async def test_socket_with_an_old_token_is_closed_and_refused(consultant, how):
    old = await database_sync_to_async(access_token_for)(consultant)
    open_socket = await socket_with(old)
    assert await ping(open_socket) == "ack"
    await database_sync_to_async(how)(consultant)
    closed = await open_socket.receive_output(timeout=3)
    assert closed["type"] == "websocket.close" and closed["code"] == 4401
    again = await socket_with(old)
    assert again.__dict__["refused"] == 4401
