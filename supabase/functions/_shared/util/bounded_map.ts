/**
 * Sets `key` in `map` as its newest entry, first dropping the oldest entry when `map` already
 * holds `max`. A Map keeps insertion order, so an in-isolate cache built on it forgets what it
 * learned longest ago and never grows past `max`.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}
