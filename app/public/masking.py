"""Masking of names on public pages."""


def mask_name(name: str) -> str:
    """Mask a personal name for public display: 张三 -> 张*, 张小三 -> 张*三,
    欧阳小明 -> 欧**明; at most three stars, so a long name (阿不都热合曼·买买提江 -> 阿***江)
    neither shows its length nor runs off a phone's screen. Empty stays empty."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * min(len(name) - 2, 3) + name[-1]
