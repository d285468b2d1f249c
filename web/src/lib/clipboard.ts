// Copying a value for the reader; false when the browser refuses (no permission, insecure origin).
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
