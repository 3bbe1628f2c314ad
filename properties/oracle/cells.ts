import { WORDS_PER_PAGE } from '../../engine/program/abi.ts';

/** Contents are tracked per word: a cell is (address, word). Attributes per page. */
export function cell(addr: number, word: number): number {
  return addr * WORDS_PER_PAGE + word;
}

export function cellsOf(addr: number): number[] {
  return Array.from({ length: WORDS_PER_PAGE }, (_, w) => cell(addr, w));
}

export function pageOf(c: number): number {
  return Math.floor(c / WORDS_PER_PAGE);
}
