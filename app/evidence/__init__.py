"""Evidence photos: checked, stripped of EXIF (including GPS), thumbnailed (Pillow)."""
