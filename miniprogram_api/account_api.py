"""Login (wx.login code → our session), the address book and subscribe-message consents."""

from __future__ import annotations

import logging

from sqlalchemy import case
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clients.errors import TransportError, WeChatAPIError
from bot.clients.http import HTTPClient
from miniprogram_api.endpoints import Call, Reply
from miniprogram_api.errors import ApiError, not_found
from miniprogram_api.schemas import (
    AddressIn,
    AddressList,
    AddressOut,
    LoginIn,
    LoginOut,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from miniprogram_api.services import MpServices, Principal
from orders.models import Customer, CustomerAddress, SubscribeConsent, utcnow
from orders.upsert import insert_for

log = logging.getLogger(__name__)

# jscode2session errcodes that mean "this code is no good" rather than "WeChat is down".
_BAD_CODE = {40029, 40163, 40226}  # invalid code, code been used, high-risk user
MAX_ADDRESSES = 50
MAX_CONSENTS_PER_TEMPLATE = 50  # each accept is one message; cap what a client can bank


async def jscode2session(services: MpServices, code: str) -> dict[str, str]:
    """openid, session_key and (when bound to an open platform) unionid for a wx.login code."""
    s = services.settings
    if not s.miniprogram_appid or not s.miniprogram_secret:
        log.error("MINIPROGRAM_APPID / MINIPROGRAM_SECRET are not set: mini-program login refused")
        raise ApiError(503, "login_not_configured", "小程序登录暂不可用，请稍后再试")
    client = HTTPClient(s.wechat_api_base, session=services.http)
    try:
        return await client.call("GET", "/sns/jscode2session", params={
            "appid": s.miniprogram_appid, "secret": s.miniprogram_secret,
            "js_code": code, "grant_type": "authorization_code",
        })
    except WeChatAPIError as exc:
        if exc.errcode in _BAD_CODE:
            raise ApiError(401, "invalid_login_code", "登录凭证无效或已过期，请重新登录") from exc
        # 40013 / 40125: our appid or secret is wrong — ours to fix, not the user's.
        log.error("jscode2session refused: %s", exc)
        raise ApiError(502, "wechat_error", "微信登录服务异常，请稍后再试") from exc
    except TransportError as exc:
        raise ApiError(503, "wechat_unavailable", "暂时连不上微信，请稍后再试") from exc
    finally:
        await client.close()


async def find_or_create_customer(
    session: AsyncSession, openid: str, unionid: str | None
) -> tuple[Customer, bool]:
    """The customer of a mini-program openid; one known by unionid (e.g. from the Official
    Account chat) is the same person and gets this openid; otherwise a new customer."""
    mine = (await session.exec(select(Customer).where(Customer.mp_openid == openid))).first()
    if mine is not None:
        if unionid and not mine.unionid:
            mine.unionid = unionid
            session.add(mine)
        return mine, False
    if unionid:
        same = (
            await session.exec(
                select(Customer)
                .where(Customer.unionid == unionid, col(Customer.mp_openid).is_(None))
                .order_by(col(Customer.id))
            )
        ).first()
        if same is not None:
            same.mp_openid = openid
            session.add(same)
            return same, False
    fresh = Customer(mp_openid=openid, unionid=unionid or None)
    session.add(fresh)
    return fresh, True


async def login(call: Call) -> Reply:
    body: LoginIn = call.body
    answer = await jscode2session(call.services, body.code)
    openid, unionid = str(answer.get("openid") or ""), answer.get("unionid") or None
    if not openid:
        raise ApiError(502, "wechat_error", "微信登录服务异常，请稍后再试")
    for attempt in range(2):  # a concurrent first login for the same openid: read its row
        try:
            async with call.services.sessionmaker() as session, session.begin():
                customer, created = await find_or_create_customer(session, openid, unionid)
                await session.flush()
                customer_id = customer.id
            break
        except IntegrityError:
            if attempt:
                raise
    assert customer_id is not None
    token = await call.services.sessions.open(
        Principal(customer_id, openid), str(answer.get("session_key") or "")
    )
    out = LoginOut(token=token, expires_in=call.services.sessions.ttl, customer_id=customer_id,
                   is_new=created)
    return Reply(out, status=201 if created else 200)


# ---- address book --------------------------------------------------------------------


async def _own_address(session: AsyncSession, customer_id: int, address_id: int) -> CustomerAddress:
    row = await session.get(CustomerAddress, address_id)
    if row is None or row.customer_id != customer_id:
        raise not_found("地址", "address_not_found")
    return row


async def _clear_default(session: AsyncSession, customer_id: int, keep: int | None) -> None:
    rows = await session.exec(
        select(CustomerAddress).where(CustomerAddress.customer_id == customer_id, CustomerAddress.is_default)
    )
    for row in rows.all():
        if row.id != keep:
            row.is_default = False
            session.add(row)


async def list_addresses(call: Call) -> AddressList:
    async with call.services.sessionmaker() as session:
        rows = await session.exec(
            select(CustomerAddress)
            .where(CustomerAddress.customer_id == call.me.customer_id)
            .order_by(col(CustomerAddress.is_default).desc(), col(CustomerAddress.id))
        )
        return AddressList(items=[AddressOut.model_validate(r) for r in rows.all()])


async def add_address(call: Call) -> AddressOut:
    body: AddressIn = call.body
    async with call.services.sessionmaker() as session, session.begin():
        existing = (
            await session.exec(select(CustomerAddress).where(CustomerAddress.customer_id == call.me.customer_id))
        ).all()
        if len(existing) >= MAX_ADDRESSES:
            raise ApiError(409, "too_many_addresses", f"地址簿最多保存 {MAX_ADDRESSES} 个地址")
        row = CustomerAddress(customer_id=call.me.customer_id, **body.model_dump())
        row.is_default = body.is_default or not existing
        session.add(row)
        await session.flush()
        if row.is_default:
            await _clear_default(session, call.me.customer_id, row.id)
        return AddressOut.model_validate(row)


async def update_address(call: Call) -> AddressOut:
    body: AddressIn = call.body
    async with call.services.sessionmaker() as session, session.begin():
        row = await _own_address(session, call.me.customer_id, call.params["address_id"])
        for name, value in body.model_dump().items():
            setattr(row, name, value)
        session.add(row)
        if row.is_default:
            await _clear_default(session, call.me.customer_id, row.id)
        return AddressOut.model_validate(row)


async def delete_address(call: Call) -> AddressList:
    async with call.services.sessionmaker() as session, session.begin():
        row = await _own_address(session, call.me.customer_id, call.params["address_id"])
        await session.delete(row)
    return await list_addresses(call)


# ---- subscribe-message consents ------------------------------------------------------


async def _consents(session: AsyncSession, openid: str) -> SubscriptionList:
    rows = await session.exec(
        select(SubscribeConsent).where(SubscribeConsent.openid == openid).order_by(col(SubscribeConsent.template_id))
    )
    return SubscriptionList(items=[SubscriptionOut.model_validate(r) for r in rows.all()])


async def add_subscriptions(call: Call) -> SubscriptionList:
    """Each "accept" from wx.requestSubscribeMessage allows one message with that template."""
    body: SubscriptionIn = call.body
    accepted = sorted(t for t, choice in body.results.items() if choice == "accept")
    async with call.services.sessionmaker() as session, session.begin():
        for template_id in accepted:
            # An upsert, so two reports racing for a new template both count.
            stmt = (
                insert_for(session, SubscribeConsent)
                .values(openid=call.me.openid, template_id=template_id, remaining=1, updated_at=utcnow())
                .on_conflict_do_update(
                    index_elements=["openid", "template_id"],
                    set_={
                        "remaining": case(
                            (col(SubscribeConsent.remaining) >= MAX_CONSENTS_PER_TEMPLATE, MAX_CONSENTS_PER_TEMPLATE),
                            else_=col(SubscribeConsent.remaining) + 1,
                        ),
                        "updated_at": utcnow(),
                    },
                )
            )
            await session.exec(stmt)
    async with call.services.sessionmaker() as session:
        return await _consents(session, call.me.openid)


async def list_subscriptions(call: Call) -> SubscriptionList:
    async with call.services.sessionmaker() as session:
        return await _consents(session, call.me.openid)
