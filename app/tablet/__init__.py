"""Tablet-first scoring (issue 8): the batch inspection grid, finding a household, and the
same-origin sync endpoint behind offline capture (a PWA: manifest + service worker)."""
