"""Access matrix entries of partner merchants, township-shared catalogues (issue 6) and the
pilot rounds page (issue 7): see tests/test_access.py for the kinds."""
from datetime import date

from flask import url_for

ROUTES = {
    "rewards.merchants_list": ("scoped", lambda i: url_for(
        "rewards.merchants_list", village_id=i["village_id"])),
    "rewards.merchant_new": ("scoped+manage_rewards", lambda i: url_for(
        "rewards.merchant_new", region_id=i["village_id"])),
    "rewards.merchant": ("scoped", lambda i: url_for("rewards.merchant",
                                                     merchant_id=i["merchant_id"])),
    "rewards.merchant_reward_new": ("scoped+manage_rewards", lambda i: url_for(
        "rewards.merchant_reward_new", merchant_id=i["merchant_id"])),
    "rewards.merchant_counter": ("scoped+redeem", lambda i: url_for(
        "rewards.merchant_counter", merchant_id=i["merchant_id"])),
    "rewards.merchant_basket": ("scoped+redeem", lambda i: url_for(
        "rewards.merchant_basket", merchant_id=i["merchant_id"],
        household_id=i["household_id"])),
    "rewards.settlement": ("scoped", lambda i: url_for("rewards.settlement",
                                                       merchant_id=i["merchant_id"])),
    "rewards.settlement_xlsx": ("scoped", lambda i: url_for("rewards.settlement_xlsx",
                                                            merchant_id=i["merchant_id"])),
    # a township's shared catalogue: only roles with manage_shared_rewards (system admins)
    "rewards.township": ("scoped+manage_shared_rewards", lambda i: url_for(
        "rewards.township", region_id=i["township_id"])),
    "rewards.township_new": ("scoped+manage_shared_rewards", lambda i: url_for(
        "rewards.township_new", region_id=i["township_id"])),
    "rewards.shared_stock": ("scoped+manage_rewards", lambda i: url_for(
        "rewards.shared_stock", village_id=i["village_id"], reward_id=i["shared_reward_id"])),
    # pilot rounds are city-wide: any role with manage_rounds
    "reports.rounds_page": ("perm+manage_rounds", lambda i: url_for("reports.rounds_page")),
    "reports.round_edit": ("perm+manage_rounds", lambda i: url_for(
        "reports.round_edit", round_id=i["round_id"])),
}


def ids(world):
    """A merchant of village A, an item of township A's shared catalogue, a pilot round."""
    from app.reports.rounds import save_round
    from app.rewards.merchants import add_merchant
    from app.rewards.services import add_reward
    merchant = add_merchant(region=world["village_a"], name="斗门便民店")
    add_reward(village=world["village_a"], merchant=merchant, name="酱油", points_price="2")
    shared = add_reward(village=world["town_a"], name="洗洁精", points_price="3")
    rnd = save_round(None, name="access-more", starts_on=date(2023, 1, 1),
                     ends_on=date(2024, 12, 31))
    return {"merchant_id": merchant.id, "shared_reward_id": shared.id,
            "township_id": world["town_a"].id, "round_id": rnd.id}
