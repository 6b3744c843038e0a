type Listener<T> = (data: T) => void;

/** A small typed event emitter (no dependency; works the same in browsers, Node and React Native). */
export class Emitter<Events extends object> {
  private listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Listen to an event; returns a function that stops listening. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const off = this.on(event, (data) => {
      off();
      listener(data);
    });
    return off;
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  protected emit<E extends keyof Events>(event: E, data: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<Events[E]>)(data);
      } catch (error) {
        // A listener's bug must not stop the other listeners, nor the socket.
        console.error(`listener of ${String(event)} failed`, error);
      }
    }
  }
}
