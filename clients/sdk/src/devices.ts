import { type CrmClient, type Schemas, ok } from "./client.js";

/**
 * Push targets (`devices/`, SPEC section 3): `{kind: "fcm" | "apns", token}` for the apps,
 * `{kind: "webpush", subscription}` as a browser's `PushSubscription.toJSON()` gives it. A device is
 * bound to this sign-in session (signing out removes it on the server).
 */
export type DeviceRegistration = Schemas["DeviceRegisterRequest"];
export type Device = Schemas["Device"];

/** Register this device for push (after sign-in, and whenever the platform's token changes). */
export function registerDevice(client: CrmClient, registration: DeviceRegistration): Promise<Device> {
  return ok(client.api.POST("/api/v1/devices", { body: registration }));
}

/** Stop pushing to this device (on sign-out, before `logout()`); one already gone is fine. */
export async function unregisterDevice(client: CrmClient, id: number): Promise<void> {
  const { response } = await client.api.DELETE("/api/v1/devices/{device_id}", { params: { path: { device_id: id } } });
  if (!response.ok && response.status !== 404) {
    await ok(Promise.resolve({ response, error: await response.json().catch(() => undefined) }));
  }
}
