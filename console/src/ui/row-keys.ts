import { useEffect, useState } from 'react';
import { navigate } from '../router';
import { useKeys } from './hooks';

/** `j`/`k` move through rows, `Enter` opens the one selected; the selection follows the list. */
export function useRowKeys(links: readonly string[]): number {
  const [selected, setSelected] = useState(-1);
  useEffect(() => setSelected((s) => Math.min(s, links.length - 1)), [links.length]);
  useKeys({
    j: () => setSelected((s) => Math.min(links.length - 1, s + 1)),
    k: () => setSelected((s) => Math.max(0, s - 1)),
    Enter: () => {
      const link = links[selected];
      if (link) navigate(link);
    },
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the selection moves
  useEffect(() => {
    document.querySelector('[data-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  return selected;
}
