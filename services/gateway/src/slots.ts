/** Counted slots per key, taken up to a maximum and given back once each (connections, verifications in flight). */
export function slots() {
  const taken = new Map<string, number>();
  return {
    /** A slot for `key`, or undefined when `max` are taken; the returned function gives it back (once). */
    take(key: string, max: number): (() => void) | undefined {
      const count = taken.get(key) ?? 0;
      if (count >= max) return undefined;
      taken.set(key, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (taken.get(key) ?? 1) - 1;
        if (left <= 0) taken.delete(key);
        else taken.set(key, left);
      };
    },
    count: (key: string) => taken.get(key) ?? 0,
  };
}
