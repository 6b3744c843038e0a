import type { CrmClient } from "./client.js";
import { errorFrom } from "./errors.js";
import type { Message } from "./generated/socket.js";
import type { CrmSocket } from "./socket.js";

/** A file to upload: a Blob or File (browsers, Node), or React Native's `{uri, name, type}`. */
export type UploadFile = Blob | { uri: string; name: string; type: string };

export interface UploadOptions {
  conversationId: number;
  files: UploadFile[];
  content?: string;
  /** Bytes sent so far of the whole body (browsers and React Native: as they go; Node: at the end). */
  onProgress?: (sent: number, total: number) => void;
  /** Tell the conversation (typing-like `file_upload_progress` events) through this socket. */
  socket?: CrmSocket;
  signal?: AbortSignal;
}

function fileName(file: UploadFile): string {
  return "name" in file && typeof file.name === "string" ? file.name : "file";
}

function fileSize(file: UploadFile): number {
  return "size" in file && typeof file.size === "number" ? file.size : 0;
}

/**
 * POST /api/v1/messages/upload (multipart `files`, 1 to 10): resolves with the message and its files.
 * With XMLHttpRequest (browsers, React Native) progress is reported as bytes leave; elsewhere through
 * fetch, at the end. A 401 renews the token and tries again once; 429/503 wait `Retry-After`.
 */
export async function uploadFiles(client: CrmClient, options: UploadOptions): Promise<Message> {
  const announce = options.socket?.state === "ready" && options.files.length === 1 ? options.socket : undefined;
  let uploadId: string | undefined;
  if (announce) {
    const file = options.files[0]!;
    uploadId = (
      await announce.request("file_upload_start", {
        conversation_id: options.conversationId,
        file_name: fileName(file),
        file_size: fileSize(file),
      })
    ).upload_id; // refused here (size, type) before any byte is sent
  }
  let reported = -1;
  const progress = (sent: number, total: number) => {
    options.onProgress?.(sent, total);
    const percent = total ? Math.floor((100 * sent) / total) : 100;
    if (announce && uploadId && percent >= reported + 10) {
      reported = percent;
      void announce.request("file_upload_progress", { upload_id: uploadId, progress: percent }).catch(() => undefined);
    }
  };
  const form = () => {
    const body = new FormData();
    body.append("conversation_id", String(options.conversationId));
    if (options.content) body.append("content", options.content);
    for (const file of options.files) {
      if (typeof Blob !== "undefined" && file instanceof Blob) body.append("files", file, fileName(file));
      else body.append("files", file as unknown as Blob); // React Native's FormData takes {uri, name, type}
    }
    return body;
  };
  const url = `${client.baseUrl}/api/v1/messages/upload`;
  const XHR = (globalThis as { XMLHttpRequest?: typeof XMLHttpRequest }).XMLHttpRequest;
  let message: Message;
  if (XHR) {
    message = await withXhr(client, XHR, url, form, progress, options.signal);
  } else {
    const response = await client.fetch(new Request(url, { method: "POST", body: form(), signal: options.signal ?? null }));
    if (!response.ok) throw await errorFrom(response);
    message = (await response.json()) as Message;
    const total = options.files.reduce((sum, file) => sum + fileSize(file), 0);
    progress(total, total);
  }
  if (announce && uploadId) void announce.request("file_upload_complete", { upload_id: uploadId }).catch(() => undefined);
  return message;
}

async function withXhr(
  client: CrmClient,
  XHR: typeof XMLHttpRequest,
  url: string,
  form: () => FormData,
  progress: (sent: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Message> {
  for (let attempt = 0; ; attempt++) {
    await client.gate.pass(signal);
    const token = await client.session.accessToken();
    const { status, text, retryAfter } = await new Promise<{ status: number; text: string; retryAfter: string | null }>(
      (resolve, reject) => {
        const xhr = new XHR();
        xhr.open("POST", url);
        if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = (event) => progress(event.loaded, event.total);
        xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, retryAfter: xhr.getResponseHeader("Retry-After") });
        xhr.onerror = () => reject(new TypeError("Network error while uploading."));
        signal?.addEventListener("abort", () => xhr.abort(), { once: true });
        xhr.onabort = () => reject(signal?.reason ?? new Error("The upload was aborted."));
        xhr.send(form());
      },
    );
    const response = new Response(text, { status, headers: retryAfter ? { "Retry-After": retryAfter } : {} });
    if (status === 401 && token && attempt === 0) {
      await client.session.renew(token);
      continue;
    }
    if ((status === 429 || status === 503) && attempt < 3) {
      client.gate.block(Number(retryAfter ?? 1));
      continue;
    }
    if (!response.ok) throw await errorFrom(response);
    return JSON.parse(text) as Message;
  }
}
