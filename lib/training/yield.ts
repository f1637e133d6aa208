/**
 * Giving the event loop a turn during long synchronous work. On the wasm and cpu backends a
 * training step computes synchronously and every `await` in the loop resolves as a microtask, so
 * without a real turn of the event loop nothing else runs while training: not a SIGINT handler,
 * not a timer, not a page's input events.
 */

/**
 * Resolves on a later turn of the event loop (a macrotask): `setImmediate` under Node, a
 * `MessageChannel` message in a page (no 4 ms clamp, unlike a nested `setTimeout(0)`).
 */
export function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    return new Promise((resolve) => {
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
