"""Access matrix rows of the board pages (issue 5): reading is ``view`` (any logged-in user
whose region holds the village), defining and drafting ``manage_households``, review,
notice, publication and black-board corrections ``review``; door-plate and notice-wall pages
are public."""
from flask import url_for


def ids(world):
    """A board definition of village A and a published (empty) board of this month."""
    from app.boards import services
    from app.boards.periods import board_period
    from app.scoring.periods import local_today
    definition = services.save_definition(world["village_a"], {
        "name": "access", "period_kind": "month", "red_top_n": 10})
    pub = services.create_draft(definition, board_period(local_today(), "month"),
                                by_user=world["users"]["vadmin"])
    for _ in range(3):
        services.advance(pub, by_user=world["users"]["vadmin"])
    return {"board_definition_id": definition.id, "board_publication_id": pub.id}


ROUTES = {
    "boards.manage": ("scoped", lambda i: url_for("boards.manage", region_id=i["village_id"])),
    "boards.new_definition": ("scoped+manage_households", lambda i: url_for(
        "boards.new_definition", region_id=i["village_id"])),
    "boards.edit_definition": ("scoped+manage_households", lambda i: url_for(
        "boards.edit_definition", definition_id=i["board_definition_id"])),
    "boards.copy_template": ("post:scoped+manage_households", lambda i: url_for(
        "boards.copy_template", village_id=i["village_id"])),
    "boards.privacy": ("scoped+manage_households", lambda i: url_for(
        "boards.privacy", village_id=i["village_id"])),
    "boards.draft": ("post:scoped+manage_households", lambda i: url_for(
        "boards.draft", definition_id=i["board_definition_id"])),
    "boards.publication": ("scoped", lambda i: url_for(
        "boards.publication", publication_id=i["board_publication_id"])),
    "boards.advance": ("post:scoped+review", lambda i: url_for(
        "boards.advance", publication_id=i["board_publication_id"])),
    "boards.correct": ("post:scoped+manage_households", lambda i: url_for(
        "boards.correct", publication_id=i["board_publication_id"])),
    "boards.poster": ("scoped", lambda i: url_for(
        "boards.poster", publication_id=i["board_publication_id"], size="a4")),
    "boards.record_correction": ("post:scoped+review", lambda i: url_for(
        "boards.record_correction", village_id=i["village_id"])),
    "boards.township": ("scoped", lambda i: url_for("boards.township",
                                                    region_id=i["village_id"])),
    "boards.public_list": ("public", lambda i: url_for("boards.public_list", token=i["token"])),
    "boards.public_board": ("public", lambda i: url_for(
        "boards.public_board", token=i["token"], publication_id=i["board_publication_id"])),
    "boards.notice_wall": ("public", lambda i: url_for("boards.notice_wall",
                                                       village_id=i["village_id"])),
}
