import { createHash } from 'node:crypto';
import type { Column } from './design-spec.ts';

/** A seeded random source: the same key gives the same numbers (SplitMix64-style mixing, 53 bits). */
export class Random {
  #state: bigint;

  constructor(key: string) {
    this.#state = BigInt(`0x${createHash('sha256').update(key).digest('hex').slice(0, 16)}`);
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    z ^= z >> 31n;
    return Number(z >> 11n) / 2 ** 53;
  }

  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  pick<T>(values: readonly T[], weights?: readonly number[]): T {
    if (!weights) return values[Math.floor(this.next() * values.length)]!;
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.next() * total;
    for (const [i, w] of weights.entries()) {
      r -= w;
      if (r < 0) return values[i]!;
    }
    return values.at(-1)!;
  }

  gaussian(): number {
    // Box-Muller
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** The random source of one column of one row: independent of order and concurrency. */
export function randomFor(seed: number, row: number, column: string): Random {
  return new Random(`${seed}:${row}:${column}`);
}

const people: Record<
  string,
  { first: string[]; last: string[]; cities: string[]; domain: string }
> = {
  en_US: {
    first: [
      'James',
      'Mary',
      'Robert',
      'Patricia',
      'John',
      'Jennifer',
      'Michael',
      'Linda',
      'David',
      'Elizabeth',
      'Maria',
      'Carlos',
      'Aisha',
      'Wei',
      'Priya',
      'Jamal',
    ],
    last: [
      'Smith',
      'Johnson',
      'Williams',
      'Brown',
      'Jones',
      'Garcia',
      'Miller',
      'Davis',
      'Rodriguez',
      'Martinez',
      'Nguyen',
      'Patel',
      'Kim',
      'Lee',
      'Walker',
      'Young',
    ],
    cities: [
      'New York',
      'Chicago',
      'Houston',
      'Phoenix',
      'Seattle',
      'Denver',
      'Atlanta',
      'Boston',
      'Austin',
      'Portland',
    ],
    domain: 'example.com',
  },
  en_GB: {
    first: [
      'Oliver',
      'Amelia',
      'George',
      'Isla',
      'Harry',
      'Ava',
      'Jack',
      'Mia',
      'Noah',
      'Freya',
      'Arjun',
      'Zara',
    ],
    last: [
      'Smith',
      'Jones',
      'Taylor',
      'Brown',
      'Williams',
      'Wilson',
      'Evans',
      'Thomas',
      'Roberts',
      'Khan',
      'Hughes',
      'Wright',
    ],
    cities: [
      'London',
      'Manchester',
      'Leeds',
      'Bristol',
      'Glasgow',
      'Cardiff',
      'Belfast',
      'Liverpool',
      'Edinburgh',
    ],
    domain: 'example.co.uk',
  },
  de_DE: {
    first: [
      'Lukas',
      'Anna',
      'Leon',
      'Mia',
      'Finn',
      'Emma',
      'Paul',
      'Hannah',
      'Jonas',
      'Lea',
      'Elias',
      'Sophie',
    ],
    last: [
      'Müller',
      'Schmidt',
      'Schneider',
      'Fischer',
      'Weber',
      'Meyer',
      'Wagner',
      'Becker',
      'Schulz',
      'Hoffmann',
      'Koch',
      'Richter',
    ],
    cities: [
      'Berlin',
      'Hamburg',
      'München',
      'Köln',
      'Frankfurt',
      'Stuttgart',
      'Leipzig',
      'Dresden',
      'Bremen',
    ],
    domain: 'example.de',
  },
  fr_FR: {
    first: [
      'Gabriel',
      'Louise',
      'Léo',
      'Jade',
      'Raphaël',
      'Emma',
      'Arthur',
      'Alice',
      'Lucas',
      'Chloé',
      'Adam',
      'Inès',
    ],
    last: [
      'Martin',
      'Bernard',
      'Dubois',
      'Thomas',
      'Robert',
      'Richard',
      'Petit',
      'Durand',
      'Leroy',
      'Moreau',
      'Simon',
      'Laurent',
    ],
    cities: [
      'Paris',
      'Marseille',
      'Lyon',
      'Toulouse',
      'Nice',
      'Nantes',
      'Strasbourg',
      'Bordeaux',
      'Lille',
    ],
    domain: 'example.fr',
  },
  es_ES: {
    first: [
      'Hugo',
      'Lucía',
      'Martín',
      'Sofía',
      'Pablo',
      'Martina',
      'Daniel',
      'María',
      'Alejandro',
      'Paula',
      'Mateo',
      'Valeria',
    ],
    last: [
      'García',
      'Rodríguez',
      'González',
      'Fernández',
      'López',
      'Martínez',
      'Sánchez',
      'Pérez',
      'Gómez',
      'Martín',
      'Jiménez',
      'Ruiz',
    ],
    cities: [
      'Madrid',
      'Barcelona',
      'Valencia',
      'Sevilla',
      'Zaragoza',
      'Málaga',
      'Bilbao',
      'Murcia',
      'Palma',
    ],
    domain: 'example.es',
  },
};

function asciiFold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase();
}

/** A sampler column's value for a row (`row` holds the columns sampled before it). */
export function sample(
  column: Extract<Column, { type: 'sampler' }>,
  random: Random,
  row: Readonly<Record<string, unknown>>,
): unknown {
  switch (column.sampler) {
    case 'category':
      return random.pick(column.params.values, column.params.weights);
    case 'subcategory': {
      const parent = String(row[column.params.category]);
      const values = column.params.values[parent];
      return values ? random.pick(values) : null;
    }
    case 'uniform': {
      const { low, high, integer } = column.params;
      return integer
        ? random.int(Math.ceil(low), Math.floor(high))
        : low + random.next() * (high - low);
    }
    case 'gaussian': {
      const value = column.params.mean + column.params.stddev * random.gaussian();
      const d = column.params.decimals;
      return d === undefined ? value : Number(value.toFixed(d));
    }
    case 'bernoulli':
      return random.next() < column.params.p;
    case 'poisson': {
      // Knuth's method: fine for the means a design uses (at most 1000, checked).
      const limit = Math.exp(-Math.min(column.params.mean, 700));
      let k = 0;
      let p = 1;
      do {
        k++;
        p *= random.next();
      } while (p > limit);
      return k - 1;
    }
    case 'datetime': {
      const start = Date.parse(column.params.start);
      const end = Date.parse(column.params.end);
      const step = { day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000 }[
        column.params.unit ?? 'second'
      ];
      const steps = Math.floor((end - start) / step);
      const at = new Date(start + random.int(0, steps) * step);
      return column.params.unit === 'day' ? at.toISOString().slice(0, 10) : at.toISOString();
    }
    case 'uuid': {
      const hex = Array.from({ length: 32 }, () => Math.floor(random.next() * 16).toString(16));
      hex[12] = '4';
      hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
      const s = hex.join('');
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
    }
    case 'person': {
      const locale = column.params?.locale ?? 'en_US';
      const names = people[locale]!;
      const first = random.pick(names.first);
      const last = random.pick(names.last);
      const minAge = column.params?.min_age ?? 18;
      const maxAge = Math.max(minAge, column.params?.max_age ?? 85);
      return {
        first_name: first,
        last_name: last,
        age: random.int(minAge, maxAge),
        city: random.pick(names.cities),
        email: `${asciiFold(first)}.${asciiFold(last)}${random.int(1, 99)}@${names.domain}`,
        locale,
      };
    }
  }
}
