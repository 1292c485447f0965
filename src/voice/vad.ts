// Voice activity detection by energy, for providers that do not find the end of speech
// themselves: 20 ms frames, speech when a frame is well above the noise floor, the end of
// an utterance after `silenceMs` without speech.

export interface VadOptions {
  sampleRate: number;
  /** Silence that ends an utterance (default 500 ms). */
  silenceMs?: number;
  /** Speech needed to start one (default 60 ms). */
  minSpeechMs?: number;
  /** RMS (of 32768) below which a frame is never speech (default 300). */
  floor?: number;
}

export type VadEvent =
  | { type: 'start'; atMs: number }
  /** `atMs`: the end of the last speech frame, not when the silence was confirmed. */
  | { type: 'end'; atMs: number };

export class EnergyVad {
  readonly #frame: number;
  readonly #silenceFrames: number;
  readonly #speechFrames: number;
  readonly #floor: number;
  readonly #rate: number;
  #pending = new Int16Array(0);
  #frames = 0;
  #noise = 0;
  #inSpeech = false;
  #run = 0;
  #quiet = 0;
  #lastSpeechEnd = 0;

  constructor(options: VadOptions) {
    this.#rate = options.sampleRate;
    this.#frame = Math.round(options.sampleRate / 50);
    this.#silenceFrames = Math.ceil((options.silenceMs ?? 500) / 20);
    this.#speechFrames = Math.ceil((options.minSpeechMs ?? 60) / 20);
    this.#floor = options.floor ?? 300;
  }

  get speaking(): boolean {
    return this.#inSpeech;
  }

  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    const all = new Int16Array(this.#pending.length + samples.length);
    all.set(this.#pending);
    all.set(samples, this.#pending.length);
    let offset = 0;
    for (; offset + this.#frame <= all.length; offset += this.#frame) {
      let sum = 0;
      for (let i = offset; i < offset + this.#frame; i++) sum += all[i]! * all[i]!;
      const rms = Math.sqrt(sum / this.#frame);
      const endMs = ((this.#frames + 1) * this.#frame * 1000) / this.#rate;
      const speech = rms > Math.max(this.#floor, this.#noise * 3);
      if (!speech) this.#noise = this.#noise === 0 ? rms : this.#noise * 0.95 + rms * 0.05;
      if (!this.#inSpeech) {
        this.#run = speech ? this.#run + 1 : 0;
        if (this.#run >= this.#speechFrames) {
          this.#inSpeech = true;
          this.#quiet = 0;
          this.#lastSpeechEnd = endMs;
          events.push({
            type: 'start',
            atMs: endMs - (this.#run * this.#frame * 1000) / this.#rate,
          });
        }
      } else if (speech) {
        this.#quiet = 0;
        this.#lastSpeechEnd = endMs;
      } else if (++this.#quiet >= this.#silenceFrames) {
        this.#inSpeech = false;
        this.#run = 0;
        events.push({ type: 'end', atMs: this.#lastSpeechEnd });
      }
      this.#frames++;
    }
    this.#pending = all.slice(offset);
    return events;
  }

  /** The end of the input: an utterance still open ends where its speech did. */
  flush(): VadEvent[] {
    if (!this.#inSpeech) return [];
    this.#inSpeech = false;
    return [{ type: 'end', atMs: this.#lastSpeechEnd }];
  }
}
