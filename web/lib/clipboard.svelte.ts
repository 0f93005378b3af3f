// Copy to the clipboard with a short "copied" mark (the views' copy buttons share it).
export class Copier {
  copied = $state(false);

  async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied = true;
      setTimeout(() => (this.copied = false), 1500);
    } catch {
      this.copied = false;
    }
  }
}
