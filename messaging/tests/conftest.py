import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.realtime import user_group


@pytest.fixture
def inbox():
    """`inbox(user)` → a function returning every realtime event that reached `user`'s group."""
    layer = get_channel_layer()

    def listen(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(user_group(user.id), channel)

        def drain():
            received = []

            async def pull():
                import asyncio

                while True:
                    try:
                        received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
                    except asyncio.TimeoutError:
                        return

            async_to_sync(pull)()
            return [(m["event"], m["data"]) for m in received if m["type"] == "realtime.event"]

        return drain

    return listen
