"""channels_redis' pub/sub channel layer on `core.redis_pools`' pools.

channels_redis makes, per event loop and Redis host, one unbounded pool that both its pub/sub
connection and its other commands (publish, the subscriber's first connect) draw from. Here they
are two pools of one connection each, named: `layer_subscriber` (the one connection every
subscription of the process rides on) and `layer` (the layer's commands, which channels_redis
already runs one at a time under the shard's lock). The rest is channels_redis' own.

A host given as a dict (Sentinel, docs/operations.md) keeps channels_redis' own pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _close_redis, _wrap_close

from core import redis_pools


class _Shard(RedisSingleShardConnection):  # type: ignore[misc]  # channels_redis is untyped
    host: dict[str, Any]
    _redis: aioredis.Redis | None
    _pubsub: Any
    _subscriber: aioredis.Redis | None = None

    def _ensure_redis(self) -> None:
        if self._redis is not None or set(self.host) != {"address"}:
            return super()._ensure_redis()  # type: ignore[no-any-return]
        url = self.host["address"]
        self._redis = aioredis.Redis(connection_pool=redis_pools.async_pool("layer", url))
        self._subscriber = aioredis.Redis(connection_pool=redis_pools.async_pool("layer_subscriber", url))
        self._pubsub = self._subscriber.pubsub()
        return None

    async def flush(self) -> None:
        subscriber, self._subscriber = self._subscriber, None
        await super().flush()  # closes the `layer` pool
        if subscriber is not None:
            await _close_redis(subscriber)


class _LoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    _shards: list[RedisSingleShardConnection]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]


class PubSubChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]
    """As channels_redis' (one layer per event loop, flushed when the loop closes), with our shards."""

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer: _LoopLayer | None = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
