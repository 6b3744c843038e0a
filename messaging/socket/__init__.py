"""The socket's helpers: auth, the Redis registry shared by every process, batched receipts,
the process's hub, frames in and out."""
