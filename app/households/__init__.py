"""Households, members, roster import/export and QR door plates."""
