import type { CrmClient } from "./client.js";
import { errorFrom } from "./errors.js";

/**
 * Push targets (`devices/`, SPEC section 3): written against the specification's contract; the
 * endpoint ships separately from this SDK's first version (issue 23), so its types are written here,
 * not generated. `{kind: "fcm" | "apns", token}` for the apps, `{kind: "webpush", subscription}` as
 * a browser's `PushSubscription.toJSON()` gives it.
 */
export type DeviceRegistration =
  | { kind: "fcm" | "apns"; token: string }
  | { kind: "webpush"; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } };

export interface Device {
  id: number;
  kind: "fcm" | "apns" | "webpush";
  [field: string]: unknown;
}

/** Register this device for push (call after sign-in, and whenever the platform's token changes). */
export function registerDevice(client: CrmClient, registration: DeviceRegistration): Promise<Device> {
  return client.post<Device>("/api/v1/devices", registration);
}

/** Stop pushing to this device (call on sign-out, before `logout()`). */
export async function unregisterDevice(client: CrmClient, id: number): Promise<void> {
  const response = await client.fetch(new Request(`${client.baseUrl}/api/v1/devices/${id}`, { method: "DELETE" }));
  if (!response.ok && response.status !== 404) {
    throw await errorFrom(response);
  }
}
