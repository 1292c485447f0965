/** A binary heap of (slot, distance) on typed arrays: min-heap or max-heap by distance. */
export class DistanceHeap {
  readonly #min: boolean;
  #slots = new Int32Array(256);
  #distances = new Float64Array(256);
  size = 0;

  constructor(min: boolean) {
    this.#min = min;
  }

  clear(): void {
    this.size = 0;
  }

  topDistance(): number {
    return this.#distances[0]!;
  }

  #before(a: number, b: number): boolean {
    return this.#min ? a < b : a > b;
  }

  push(slot: number, distance: number): void {
    if (this.size === this.#slots.length) {
      const slots = new Int32Array(this.size * 2);
      slots.set(this.#slots);
      this.#slots = slots;
      const distances = new Float64Array(this.size * 2);
      distances.set(this.#distances);
      this.#distances = distances;
    }
    const slots = this.#slots;
    const distances = this.#distances;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(distance, distances[parent]!)) break;
      slots[i] = slots[parent]!;
      distances[i] = distances[parent]!;
      i = parent;
    }
    slots[i] = slot;
    distances[i] = distance;
  }

  /** Removes the top; returns its slot. */
  pop(): number {
    const slots = this.#slots;
    const distances = this.#distances;
    const top = slots[0]!;
    const last = --this.size;
    if (last === 0) return top;
    const slot = slots[last]!;
    const distance = distances[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child =
        right < last && this.#before(distances[right]!, distances[left]!) ? right : left;
      if (!this.#before(distances[child]!, distance)) break;
      slots[i] = slots[child]!;
      distances[i] = distances[child]!;
      i = child;
    }
    slots[i] = slot;
    distances[i] = distance;
    return top;
  }
}
