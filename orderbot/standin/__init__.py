"""A local stand-in for the WeChat, WeCom and mini-program server APIs.

It answers the API paths orderbot calls with the documented shapes, error codes and
limits, so tests and the demo exercise the project's real HTTP code end to end
(shared/contracts/interfaces.md, "The stand-in"). Run it with `orderbot standin`, or in a
test with `create_standin_app(config)` on an aiohttp test server.

API paths (as on api.weixin.qq.com / qyapi.weixin.qq.com):
  GET  /cgi-bin/token, POST /cgi-bin/stable_token      OA and mini-program tokens
  POST /cgi-bin/message/custom/send                    48 h window, 5 per window (45015/45047)
  POST /cgi-bin/message/template/send                  followers only (43004)
  POST /cgi-bin/message/subscribe/send                 one consent per message (43101)
  GET  /cgi-bin/media/get, POST /cgi-bin/media/upload (OA and WeCom, each its own media)
  GET  /sns/jscode2session                             single-use codes (40029/40163)
  GET  /cgi-bin/gettoken, POST /cgi-bin/message/send,
  POST /cgi-bin/message/update_template_card           WeCom; response_code once, 72 h
  POST /cgi-bin/webhook/send?key=                      group robot, 20 a minute (45009)
  GET  /connect/oauth2/authorize, GET /cgi-bin/auth/getuserinfo   WeCom web login (40029)

Control paths (stand-in only):
  GET/DELETE /__sent__ (?api= &channel= &to=)   every accepted message, newest last
  GET /__errors__                               refused calls, newest last
  POST /__users__ {openid, unionid?, app?} | {userid, app: "wecom"};  GET /__users__
  POST /__window__ {openid}                     open the 48 h window
  POST /__consent__ {openid, template_id, times?}
  POST /__login__ {openid, unionid?} -> {code}  a wx.login() code for jscode2session
  POST /__oauth__ {userid}                      the WeCom member the OAuth authorize page logs in
  GET/POST /__clock__ {advance} | {now}         move the stand-in's clock
  POST /__media__ (raw bytes, or JSON {base64, content_type}) -> {media_id}
  GET /__stats__                                token fetches per app
  POST /__simulate__/wechat {openid, text | image | location | event, msgid?, mode?}
  POST /__simulate__/wecom {userid, text | image | event: "template_card_event", task_id, ...}
  POST /__wms__/orders, POST/GET /__wms__       a WMS taking order pushes: accept / reject / timeout / flaky
  POST /__simulate__/verify {app: "wechat" | "wecom"}   callback URL verification
  GET/POST/DELETE /__faults__ {rate, kinds, paths, hang_seconds, seed}   make API paths fail
      on purpose (502, timeouts, -1 busy, 45009 rate limits; orderbot/standin/faults.py)
"""

from orderbot.standin.app import create_standin_app
from orderbot.standin.config import StandinConfig
from orderbot.standin.state import ApiError, StandinState

__all__ = ["ApiError", "StandinConfig", "StandinState", "create_standin_app"]
