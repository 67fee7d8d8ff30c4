export function navigate(hash: string) {
  if (location.hash !== hash) location.hash = hash;
}
