// Theme and text size, kept in localStorage and applied to <html> (CSS variables do the rest).
export type Theme = 'light' | 'dark';

const THEME = 'handshake-lab.theme';
const SIZE = 'handshake-lab.text-size';
export const TEXT_SIZES = [15, 17, 20] as const;

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage refused: the choice lasts for this page only
  }
}

export class Prefs {
  theme = $state<Theme>('light');
  textSize = $state<number>(TEXT_SIZES[0]);

  load(): void {
    const t = read(THEME);
    this.theme = t === 'dark' || t === 'light' ? t : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
    const s = Number(read(SIZE));
    this.textSize = (TEXT_SIZES as readonly number[]).includes(s) ? s : TEXT_SIZES[0];
    this.apply();
  }

  toggleTheme(): void {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    write(THEME, this.theme);
    this.apply();
  }

  /** Cycles normal → large → projector. */
  cycleTextSize(): void {
    const i = (TEXT_SIZES as readonly number[]).indexOf(this.textSize);
    this.textSize = TEXT_SIZES[(i + 1) % TEXT_SIZES.length];
    write(SIZE, String(this.textSize));
    this.apply();
  }

  private apply(): void {
    document.documentElement.dataset.theme = this.theme;
    document.documentElement.style.fontSize = `${this.textSize}px`;
  }
}
