"""A rep passes on a customer's inquiry; the rep completes and confirms it for the customer."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from orders.models import Customer, Order, OrderEvent, Product
from tests.push.harness import REP_ID, World
from tests.wecom import wecom_sim
from tests.wecom.test_commands import say


@pytest.fixture
def world(embedded_world: World) -> World:
    """These run on the embedded profile; the two-profile tests cover the database paths."""
    return embedded_world


@pytest.fixture
async def catalog_world(world: World, shared_dir: Path) -> World:
    """The shared fastener catalog in the hub, with stock."""
    with (shared_dir / "eval/catalog.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    async with world.sm() as s, s.begin():
        for r in rows:  # the catalog's own names and aliases, also for the products seeded already
            product = await s.get(Product, r["sku"]) or Product(sku=r["sku"], name=r["name"])
            product.name, product.category, product.spec = r["name"], r["category"], r["spec"]
            product.material, product.unit = r["material"], r["unit"]
            product.pack_unit = r["pack_unit"] or None
            product.pack_size = int(r["pack_size"]) if r["pack_size"] else None
            product.price = Decimal(r["price"])
            product.aliases = [a for a in r["aliases"].split("|") if a]
            product.stock = 1_000_000
            s.add(product)
    return world


async def test_a_forwarded_inquiry_for_a_known_customer_becomes_their_order(catalog_world: World) -> None:
    world = catalog_world
    replies = await say(world, "客户：常州恒锐五金 M6*20外六角 304的 500个，下周三前送常州武进湖塘镇长虹路88号，张工 13812345678")
    assert replies and "已匹配客户：常州恒锐五金有限公司" in replies[0]
    assert "确认" in replies[-1]  # the summary, waiting for the rep's confirmation
    replies = await say(world, "确认")
    assert any("已代客户下单" in r for r in replies), replies
    async with world.sm() as s:
        order = (await s.exec(select(Order))).one()
        created = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.type == "submitted"))).one()
    assert (order.customer_id, order.channel, order.status) == (world.ids["customer"], "wecom", "pending")
    assert (created.actor_kind, created.actor_id) == ("rep", REP_ID)
    # and the order's card follows, like any other pending order
    cards = [e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card"]
    assert len(cards) == 1 and order.number in cards[0]["payload"]["template_card"]["sub_title_text"]


async def test_an_inquiry_from_a_new_customer_creates_the_customer_for_this_rep(catalog_world: World) -> None:
    world = catalog_world
    replies = await say(world, "王老板 13900001111 要M8的镀锌螺母 2000个 明天送苏州工业园区星湖街328号")
    assert "新建客户" in replies[0]
    async with world.sm() as s:
        customer = (await s.exec(select(Customer).where(Customer.id != world.ids["customer"]))).one()
    assert customer.phones == ["13900001111"] and customer.rep_id == world.ids["rep"]
    replies = await say(world, "明天送苏州工业园区星湖街328号")
    replies = await say(world, "确认")
    assert any("已代客户下单" in r for r in replies), replies
    # a customer with no WeChat is not a failed push: nothing parked, nobody alerted
    assert await world.outbox(state="parked") == []
    assert world.sent("custom_send") == [] and world.sent("template_send") == []
    # with the draft placed, plain chatter is help again, not a follow-up of the draft
    [help_text] = await say(world, "你好")
    assert "可用指令" in help_text


@pytest.mark.slow
async def test_a_photographed_order_form_becomes_a_draft_for_the_rep(catalog_world: World, tmp_path: Path,
                                                                      shared_dir: Path) -> None:
    from ocr.testforms.generate import generate
    from tests.needs import cjk_fonts_or_skip

    fonts = cjk_fonts_or_skip()
    world = catalog_world
    [case] = generate(tmp_path, shared_dir / "eval/catalog.csv", n=1, seed=7, templates=("bordered",),
                      kinds=("scan",), fonts=fonts[:1])
    media_id = world.standin.add_media("wecom", case.image.read_bytes(), "image/png")
    before = len(world.sent("wecom_send", to=REP_ID))
    xml = wecom_sim.image_xml(world.settings, REP_ID, media_id, msgid=77001)
    assert (await wecom_sim.post(world.app_client, world.settings, xml)).status == 200
    await world.drain()
    replies = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID)[before:]
               if e["msgtype"] == "text"]
    assert replies and replies[0].startswith(("已匹配客户", "新建客户")), replies
    skus = {i["sku"] for i in case.expect["items"] if i.get("sku")}
    async with world.sm() as s:
        names = {p.sku: p.name for p in await s.exec(select(Product).where(Product.sku.in_(skus)))}
    assert any(name in "\n".join(replies) for name in names.values()), (replies, names)


async def test_an_unnamed_inquiry_is_matched_to_the_customer_by_phone(catalog_world: World) -> None:
    world = catalog_world
    replies = await say(world, "M8的镀锌螺母 两千个 明天送 电话13812345678")
    assert replies[0].startswith("已匹配客户：常州恒锐五金有限公司"), replies
    async with world.sm() as s:
        assert len(list(await s.exec(select(Customer)))) == 1  # nobody new was created


async def test_naming_another_customer_starts_a_new_draft(catalog_world: World) -> None:
    world = catalog_world
    await say(world, "王老板 13900001111 要M8的镀锌螺母 2000个")  # open draft for a new customer
    replies = await say(world, "客户：常州恒锐五金 M6*20外六角 304的 500个")
    assert replies[0] == "（上一张未完成的代客草稿已放弃）"
    assert replies[1].startswith("已匹配客户：常州恒锐五金有限公司")
    assert any("不下了" in r for r in await say(world, "取消"))


async def test_a_forwarded_order_delivered_again_is_placed_once_and_routed(catalog_world: World) -> None:
    from tests.placing import conversation_state, last_message_id, one_routed_order, redeliver

    world = catalog_world
    await say(world, "客户：常州恒锐五金 M6*20外六角 304的 500个，下周三前送常州武进湖塘镇长虹路88号，张工 13812345678")
    waiting = await conversation_state(world.sm, "wecom", REP_ID)
    await say(world, "确认")
    confirm = await last_message_id(world.sm, "确认")
    for _ in range(2):  # the worker died twice before marking the 确认 handled
        await redeliver(world.sm, confirm, "wecom", REP_ID, waiting)
        await world.drain()
    order = await one_routed_order(world.sm)
    assert (order.channel, order.rep_id) == ("wecom", world.ids["rep"])


async def test_a_rep_draft_left_for_three_days_is_forgotten(catalog_world: World) -> None:
    """The rep's draft has the chat's lifetime (72 h untouched): after that, chatter is not a
    follow-up of a stale draft."""
    from datetime import timedelta

    from orders.models import ChatSession, utcnow

    world = catalog_world
    await say(world, "王老板 13900001111 要M8的镀锌螺母 2000个")
    async with world.sm() as s, s.begin():
        row = (await s.exec(select(ChatSession).where(ChatSession.channel == "wecom"))).one()
        assert row.stage != "idle" and row.expires_at is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
    [help_text] = await say(world, "你好")
    assert "可用指令" in help_text
