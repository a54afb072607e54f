"""The mini-program API, /mp/v1: login, catalog, drafts, uploads, orders, addresses, consents.

`setup(app)` mounts it as a sub-application with its own error middleware, so every answer
under /mp/v1 — including 404s for unknown paths — has the {code, message} shape. The route
table `ENDPOINTS` drives both the router and GET /mp/v1/openapi.json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from miniprogram_api import account_api, catalog_api, orders_api, uploads_api
from miniprogram_api import schemas as s
from miniprogram_api.endpoints import Endpoint, Header
from miniprogram_api.errors import json_errors
from miniprogram_api.openapi import build_openapi
from miniprogram_api.services import SERVICES, MpServices, ServicesHolder

PREFIX = "/mp/v1"
_ORDER_ERRORS = (404, 409)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/auth/login", account_api.login, "用 wx.login 的 code 登录，换取会话令牌", "auth",
             s.LoginOut, status=201, also=(200,), body=s.LoginIn, auth=False, errors=(401, 502, 503)),
    Endpoint("GET", "/catalog/products", catalog_api.search_products, "搜索商品（名称、别名、规格，模糊匹配）",
             "catalog", s.ProductPage, query=s.CatalogQuery, auth=False),
    Endpoint("GET", "/catalog/products/{sku}", catalog_api.get_product, "商品详情", "catalog",
             s.ProductOut, auth=False, errors=(404,)),
    Endpoint("POST", "/drafts", orders_api.preview_draft, "把一段文字理解成订单草稿（不保存）", "orders",
             s.DraftOut, body=s.DraftIn),
    Endpoint("POST", "/uploads", uploads_api.upload_image, "上传订单照片，排队识别", "uploads",
             s.JobOut, status=202, upload=True, errors=(400, 413, 415, 422, 429)),
    Endpoint("GET", "/jobs/{job_id}", uploads_api.get_job, "识别任务的状态与结果", "uploads",
             s.JobOut, int_params=("job_id",), errors=(404,)),
    Endpoint("POST", "/orders", orders_api.place_order, "下单（同一 Idempotency-Key 重试只生成一笔订单）",
             "orders", s.OrderOut, status=201, also=(200,), body=s.OrderIn, errors=_ORDER_ERRORS,
             headers=(Header("Idempotency-Key", "客户端为每笔下单生成的唯一键，重试时保持不变",
                             required=True),)),
    Endpoint("GET", "/orders", orders_api.list_orders, "我的订单（分页，可按状态筛选）", "orders",
             s.OrderPage, query=s.OrderQuery),
    Endpoint("GET", "/orders/{number}", orders_api.get_order, "订单详情：明细、进度、物流", "orders",
             s.OrderOut, errors=(404,)),
    Endpoint("POST", "/orders/{number}/cancel", orders_api.cancel_order, "取消订单（发货前）", "orders",
             s.OrderOut, body=s.CancelIn, errors=_ORDER_ERRORS),
    Endpoint("POST", "/orders/{number}/edit", orders_api.edit_order,
             "修改订单（业务员确认前）：加减商品、改交期或备注，须写原因", "orders",
             s.OrderOut, body=s.OrderEditIn, errors=(403, 404, 409)),
    Endpoint("GET", "/addresses", account_api.list_addresses, "地址簿", "addresses", s.AddressList),
    Endpoint("POST", "/addresses", account_api.add_address, "新增地址", "addresses", s.AddressOut,
             status=201, body=s.AddressIn, errors=(409,)),
    Endpoint("PUT", "/addresses/{address_id}", account_api.update_address, "修改地址", "addresses",
             s.AddressOut, body=s.AddressIn, int_params=("address_id",), errors=(404,)),
    Endpoint("DELETE", "/addresses/{address_id}", account_api.delete_address, "删除地址", "addresses",
             s.AddressList, int_params=("address_id",), errors=(404,)),
    Endpoint("POST", "/subscriptions", account_api.add_subscriptions,
             "记录 wx.requestSubscribeMessage 的结果（一次性订阅消息授权）", "subscriptions",
             s.SubscriptionList, body=s.SubscriptionIn),
    Endpoint("GET", "/subscriptions", account_api.list_subscriptions, "剩余的订阅消息授权次数",
             "subscriptions", s.SubscriptionList),
)

OPENAPI = build_openapi(ENDPOINTS, prefix=PREFIX)


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def _services_from_app(holder: ServicesHolder) -> Callable[[web.Application], Awaitable[None]]:
    async def fill(app: web.Application) -> None:
        from orderbot import appkeys
        from orderbot.routing_rules import rules_file_from_settings

        settings = app[appkeys.SETTINGS]
        holder.services = MpServices(
            settings=settings, sessionmaker=app[appkeys.SESSIONMAKER], store=app[appkeys.STORE],
            http=app.get(appkeys.HTTP), rules=rules_file_from_settings(settings),
        )

    return fill


def create_mp_app(services: MpServices | None = None) -> web.Application:
    """The /mp/v1 sub-application; `services` given directly, or filled at the parent's startup."""
    mp = web.Application(middlewares=[json_errors])
    holder = ServicesHolder()
    holder.services = services
    mp[SERVICES] = holder
    for ep in ENDPOINTS:
        mp.router.add_route(ep.method, ep.path, ep.view(), name=ep.operation_id)
    mp.router.add_get("/openapi.json", openapi_json, name="openapi")
    return mp


def setup(app: web.Application, *, services: MpServices | None = None) -> None:
    """Mount /mp/v1 on the service app (called by service.app.create_app)."""
    mp = create_mp_app(services)
    if services is None:
        app.on_startup.append(_services_from_app(mp[SERVICES]))
    app.add_subapp(PREFIX, mp)
