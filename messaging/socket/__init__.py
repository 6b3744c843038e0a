"""The socket's helpers: auth, the Redis registry shared by every process, batched receipts."""

from asgiref.sync import sync_to_async
from django.db import close_old_connections


def database_sync_to_async(func):
    """Run ORM work in a worker thread with a pooled connection.

    Not thread-sensitive (unlike channels' helper): sockets of one process would otherwise queue
    all their database work on a single thread.
    """

    def run(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)
