"""Demo data: the real region tree of 南昌市 and one fully populated pilot village."""
