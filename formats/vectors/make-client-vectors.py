#!/usr/bin/env python3
"""Writes formats/vectors/{segment,posthog,mixpanel,grouparoo}/cases.json.

The expected events are written here by hand from the specs (formats/<client>.md),
not produced by the decoders; this script only builds request bytes that are
awkward to write in JSON (gzip, base64, forms). Run it again after changing a case.
"""
import base64, gzip, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
T = 1700000000000  # receive time used by every case
IP = '203.0.113.9'
TOK = 'srvTok01'
RID = 7

def req(method, path, body=b'', headers=None, content_type='', gz=False):
    if isinstance(body, str):
        body = body.encode('utf-8')
    headers = dict(headers or {})
    if gz:
        body = gzip.compress(body, mtime=0)
    if content_type:
        headers['content-type'] = content_type
    return {'method': method, 'path': path, 'headers': headers, 'contentType': content_type,
            'bodyBase64': base64.b64encode(body).decode(), 'time': T, 'ip': IP, 'serverToken': TOK, 'reqId': RID}

def ev(key, type_, value, client_time=T, original=None, user=None, anon=None, ip=IP, source=''):
    return {'key': key, 'type': type_, 'value': value, 'clientTime': client_time, 'originalClientTime': original,
            'serverTime': T, 'userId': user, 'anonymousId': anon, 'ip': ip, 'source': source}

def basic(user):
    return 'Basic ' + base64.b64encode((user + ':').encode()).decode()

def b64(text):
    return base64.b64encode(text.encode()).decode()

def write(name, description, valid, invalid):
    with open(os.path.join(HERE, name, 'cases.json'), 'w') as f:
        json.dump({'description': description, 'valid': valid, 'invalid': invalid}, f, indent=1, ensure_ascii=False)
        f.write('\n')

# ---------------------------------------------------------------- segment
S = 'segment'
seg_valid = [
 {'name': 'track by Basic auth, skew corrected by the batch sentAt',
  'request': req('POST', '/v1/batch', '{"batch":[{"type":"track","event":"Signed Up","userId":"u1","properties":{"plan" : "pro", "n":1.50},"messageId":"m-1","timestamp":"2023-11-14T22:13:10.000Z"}],"sentAt":"2023-11-14T22:13:15.000Z"}',
                 {'authorization': basic('wk_live')}, 'application/json'),
  'writeKey': 'wk_live',
  # timestamp 22:13:10 = 1699999990000, sentAt 22:13:15 = 1699999995000, received 22:13:20 = T:
  # corrected 1699999990000 + (T - 1699999995000) = 1699999995000
  'events': [ev('m-1', 'Signed Up', '{"plan" : "pro", "n":1.50}', client_time=1699999995000, original=1699999990000, user='u1', source=S)]},
 {'name': 'single identify with writeKey in the body (no auth header), traits kept exactly, merge ids',
  'request': req('POST', '/v1/identify', '{"writeKey":"wk_body","userId":"u1","anonymousId":"a1","traits":{"email":"x@y.z","tags":["a","b"]},"messageId":"m-2"}', {}, 'application/json'),
  'writeKey': 'wk_body',
  'events': [ev('m-2', 'identify', '{"email":"x@y.z","tags":["a","b"]}', user='u1', anon='a1', source=S)]},
 {'name': 'gzip body labelled form-urlencoded (RudderStack via axios); originalTimestamp and per-message sentAt',
  'request': req('POST', '/v1/batch', '{"batch":[{"type":"page","anonymousId":"a9","name":"Home","properties":{"path":"/"},"messageId":"m-3","originalTimestamp":"2023-11-14T22:13:00.000Z","sentAt":"2023-11-14T22:13:30.000Z"}],"sentAt":"2023-11-14T22:13:30.000Z"}',
                 {'authorization': basic('wk_rudder'), 'content-encoding': 'gzip'}, 'application/x-www-form-urlencoded', gz=True),
  'writeKey': 'wk_rudder',
  # 22:13:00 = 1699999980000; sentAt 22:13:30 = 1700000010000 (client clock 10 s ahead): corrected = 1699999980000 + (T - 1700000010000) = 1699999970000
  'events': [ev('m-3', 'page', '{"path":"/"}', client_time=1699999970000, original=1699999980000, anon='a9', source=S)]},
 {'name': 'gzip detected from the bytes without Content-Encoding; alias maps previousId to anonymousId; no messageId gives a request key',
  'request': req('POST', '/v1/alias', '{"userId":"u2","previousId":"a2"}', {'authorization': basic('wk')}, 'text/plain', gz=True),
  'writeKey': 'wk',
  'events': [ev('srvTok01/7/0', 'alias', '{}', user='u2', anon='a2', source=S)]},
 {'name': 'import with two calls; group traits; screen without properties; numeric userId as text',
  'request': req('POST', '/v1/import', '{"batch":[{"type":"group","userId":42,"groupId":"g1","traits":{"name":"Acme"}},{"type":"screen","anonymousId":"a3","name":"Main"}]}', {'authorization': basic('wk')}, 'application/json'),
  'writeKey': 'wk',
  'events': [ev('srvTok01/7/0', 'group', '{"name":"Acme"}', user='42', source=S), ev('srvTok01/7/1', 'screen', '{}', anon='a3', source=S)]},
 {'name': 'no write key anywhere: decodes, the key check answers 401 later',
  'request': req('POST', '/v1/track', '{"event":"E","anonymousId":"a","messageId":"m-4"}', {}, 'application/json'),
  'writeKey': None,
  'events': [ev('m-4', 'E', '{}', anon='a', source=S)]},
]
big_props = '{"pad":"' + 'x' * (33 * 1024) + '"}'
seg_invalid = [
 {'name': 'malformed JSON', 'request': req('POST', '/v1/batch', '{"batch":[', {'authorization': basic('wk')}, 'application/json'), 'status': 400, 'message': 'malformed JSON'},
 {'name': 'batch is not an array', 'request': req('POST', '/v1/batch', '{"batch":{}}', {'authorization': basic('wk')}), 'status': 400, 'message': '"batch" array'},
 {'name': 'unknown call type', 'request': req('POST', '/v1/batch', '{"batch":[{"type":"purchase","userId":"u"}]}', {}), 'status': 400, 'message': 'batch[0].type must be one of'},
 {'name': 'neither userId nor anonymousId', 'request': req('POST', '/v1/track', '{"event":"E"}', {}), 'status': 400, 'message': 'userId or anonymousId is required'},
 {'name': 'track without event name', 'request': req('POST', '/v1/batch', '{"batch":[{"type":"track","userId":"u"}]}', {}), 'status': 400, 'message': 'batch[0].event must be a non-empty string'},
 {'name': 'event over 32 KB', 'request': req('POST', '/v1/track', '{"event":"E","userId":"u","properties":' + big_props + '}', {'content-encoding': 'gzip'}, gz=True), 'status': 400, 'message': "32 KB"},
 {'name': 'request over 500 KB', 'request': req('POST', '/v1/batch', '{"batch":[' + ','.join(['{"type":"track","event":"E","userId":"u","properties":{"pad":"' + 'y' * 20000 + '"}}'] * 26) + ']}', {'content-encoding': 'gzip'}, gz=True), 'status': 400, 'message': '500 KB'},
 {'name': 'bad timestamp', 'request': req('POST', '/v1/track', '{"event":"E","userId":"u","timestamp":"yesterday"}', {}), 'status': 400, 'message': 'body.timestamp "yesterday" is not a time'},
 {'name': 'properties not an object', 'request': req('POST', '/v1/track', '{"event":"E","userId":"u","properties":[1]}', {}), 'status': 400, 'message': 'body.properties must be a JSON object'},
 {'name': 'type contradicts the path', 'request': req('POST', '/v1/track', '{"type":"identify","userId":"u"}', {}), 'status': 400, 'message': 'does not match the path'},
 {'name': 'messageId with U+0000 cannot be a key', 'request': req('POST', '/v1/track', '{"event":"E","userId":"u","messageId":"a\\u0000b"}', {}), 'status': 400, 'message': 'body.messageId "a\\u0000b" cannot be an event key'},
 {'name': 'nested deeper than 64', 'request': req('POST', '/v1/track', '{"event":"E","userId":"u","properties":{"a":' + '[' * 70 + ']' * 70 + '}}', {}), 'status': 400, 'message': 'JSON nested deeper than 64'},
 {'name': 'broken gzip', 'request': req('POST', '/v1/batch', b'\x1f\x8b\x08\x00garbage', {'content-encoding': 'gzip'}), 'status': 400, 'message': 'not valid gzip'},
 {'name': 'GET is not read', 'request': req('GET', '/v1/track'), 'status': 405, 'message': 'reads POST'},
]
write('segment', 'Segment HTTP API requests (formats/segment.md). `request.bodyBase64` holds the exact body bytes. A valid case gives `writeKey` and `events` (key is the string key before keyjson encoding; value is exact JSON text); an invalid one the HTTP `status` and a part of the `message`.', seg_valid, seg_invalid)

# ---------------------------------------------------------------- posthog
P = 'posthog'
ph_batch = '{"api_key":"phc_k","batch":[{"event":"clicked","distinct_id":"d1","properties":{"$lib":"posthog-node","b":true},"timestamp":"2023-11-14T22:13:00.000Z","uuid":"0190-aaaa"},{"event":"$identify","distinct_id":"user-7","properties":{"$anon_distinct_id":"anon-7","$set":{"e":"m"}},"uuid":"0190-bbbb","timestamp":"2023-11-14T22:13:10.000Z"}],"sent_at":"2023-11-14T22:13:25.000Z"}'
ph_valid = [
 {'name': 'posthog-node batch, gzip by Content-Encoding, skew corrected by sent_at; $identify merges',
  'request': req('POST', '/batch/', ph_batch, {'content-encoding': 'gzip'}, 'application/json', gz=True),
  'writeKey': 'phc_k',
  # sent_at 22:13:25 = 1700000005000: shift T - 1700000005000 = -5000
  'events': [ev('0190-aaaa', 'clicked', '{"$lib":"posthog-node","b":true}', client_time=1699999975000, original=1699999980000, user='d1', source=P),
             ev('0190-bbbb', '$identify', '{"$anon_distinct_id":"anon-7","$set":{"e":"m"}}', client_time=1699999985000, original=1699999990000, user='user-7', anon='anon-7', source=P)]},
 {'name': 'single /capture event with token in properties (posthog-js), offset instead of timestamp',
  'request': req('POST', '/capture', '{"event":"$pageview","properties":{"token":"phc_js","distinct_id":"d2","$current_url":"http://x/"},"offset":1500}', {}, 'application/json'),
  'writeKey': 'phc_js',
  'events': [ev('srvTok01/7/0', '$pageview', '{"token":"phc_js","distinct_id":"d2","$current_url":"http://x/"}', client_time=T - 1500, user='d2', source=P)]},
 {'name': 'legacy form data= with base64 to /e/ (trailing slash)',
  'request': req('POST', '/e/?ip=1&_=1700000000000', 'data=' + b64('[{"event":"e1","properties":{"distinct_id":"d3","token":"phc_f"},"uuid":"u-3"}]'), {}, 'application/x-www-form-urlencoded'),
  'writeKey': 'phc_f',
  'events': [ev('u-3', 'e1', '{"distinct_id":"d3","token":"phc_f"}', user='d3', source=P)]},
 {'name': 'bare base64 body to /i/v0/e with compression=base64',
  'request': req('POST', '/i/v0/e?compression=base64', b64('{"api_key":"phc_b","event":"e2","distinct_id":"d4","uuid":"u-4","properties":{}}'), {}, 'text/plain'),
  'writeKey': 'phc_b',
  'events': [ev('u-4', 'e2', '{}', user='d4', source=P)]},
 {'name': 'gzip-js by query, array body, $create_alias',
  'request': req('POST', '/batch?compression=gzip-js', '[{"event":"$create_alias","properties":{"distinct_id":"u9","alias":"a9","token":"phc_g"},"uuid":"u-5"}]', {}, 'text/plain', gz=True),
  'writeKey': 'phc_g',
  'events': [ev('u-5', '$create_alias', '{"distinct_id":"u9","alias":"a9","token":"phc_g"}', user='u9', anon='a9', source=P)]},
]
ph_invalid = [
 {'name': 'no event name', 'request': req('POST', '/capture', '{"api_key":"k","distinct_id":"d","properties":{},"event":""}'), 'status': 400, 'message': '"event" must be a non-empty string'},
 {'name': 'no distinct_id', 'request': req('POST', '/batch', '{"api_key":"k","batch":[{"event":"e","properties":{}}]}'), 'status': 400, 'message': 'distinct_id is required'},
 {'name': 'lz64 compression', 'request': req('POST', '/e?compression=lz64', 'data=N4Ig'), 'status': 415, 'message': 'lz64 is not supported'},
 {'name': 'neither JSON nor base64', 'request': req('POST', '/capture', 'hello world!'), 'status': 400, 'message': 'neither JSON nor base64'},
 {'name': 'object that is no event', 'request': req('POST', '/capture', '{"api_key":"k"}'), 'status': 400, 'message': 'body must be an event'},
 {'name': 'form without data', 'request': req('POST', '/e', 'ver=1'), 'status': 400, 'message': 'no data= field'},
]
write('posthog', 'PostHog capture requests (formats/posthog.md); same layout as segment/cases.json.', ph_valid, ph_invalid)

# ---------------------------------------------------------------- mixpanel
M = 'mixpanel'
seed_url_data = 'eyJldmVudCI6ICJnYW1lIiwgInByb3BlcnRpZXMiOiB7ImlwIjogIjEyMy4xMjMuMTIzLjEyMyIsICJkaXN0aW5jdF9pZCI6ICIxMzc5MyIsICJ0b2tlbiI6ICJlM2JiNDEwMDMzMGMzNTcyMjc0MGZiOGM2ZjVhYmRkYyIsICJ0aW1lIjogMTI0NTYxMzg4NSwgImFjdGlvbiI6ICJwbGF5In19'
batch_json = '[{"event":"a+b?","properties":{"distinct_id":"u1","token":"mp_t","time":1700000000123,"$insert_id":"ins-1"}},{"event":"c","properties":{"distinct_id":"u1","token":"mp_t","time":1699999999.5}}]'
batch_b64 = b64(batch_json)
assert '+' in batch_b64 or '/' in batch_b64
mp_valid = [
 {'name': "seed 000's GET /track URL: seconds time, ip from properties (ip=0)",
  'request': req('GET', '/track/?data=' + seed_url_data),
  'writeKey': 'e3bb4100330c35722740fb8c6f5abddc',
  'events': [ev('srvTok01/7/0', 'game', '{"ip": "123.123.123.123", "distinct_id": "13793", "token": "e3bb4100330c35722740fb8c6f5abddc", "time": 1245613885, "action": "play"}', client_time=1245613885000, user='13793', ip='123.123.123.123', source=M)]},
 {'name': 'mixpanel-node track_batch: POST data= form with unescaped base64 (+ and /), ms and fractional-second times, $insert_id',
  'request': req('POST', '/track?ip=1&verbose=0', 'data=' + batch_b64, {}, 'application/x-www-form-urlencoded'),
  'writeKey': 'mp_t',
  'events': [ev('ins-1', 'a+b?', '{"distinct_id":"u1","token":"mp_t","time":1700000000123,"$insert_id":"ins-1"}', client_time=1700000000123, user='u1', source=M),
             ev('srvTok01/7/1', 'c', '{"distinct_id":"u1","token":"mp_t","time":1699999999.5}', client_time=1699999999500, user='u1', source=M)]},
 {'name': 'JSON body (no data=), $identify merges, verbose',
  'request': req('POST', '/track?verbose=1', '{"event":"$identify","properties":{"distinct_id":"u5","$identified_id":"u5","$anon_id":"dev-5","token":"mp_t"}}', {}, 'application/json'),
  'writeKey': 'mp_t',
  'events': [ev('srvTok01/7/0', '$identify', '{"distinct_id":"u5","$identified_id":"u5","$anon_id":"dev-5","token":"mp_t"}', user='u5', anon='dev-5', ip=None, source=M)]},
 {'name': '$create_alias: alias is the user, distinct_id the earlier id',
  'request': req('GET', '/track?ip=0&verbose=0&data=' + b64('{"event":"$create_alias","properties":{"distinct_id":"anon-1","alias":"user-1","token":"mp_t"}}').replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')),
  'writeKey': 'mp_t',
  'events': [ev('srvTok01/7/0', '$create_alias', '{"distinct_id":"anon-1","alias":"user-1","token":"mp_t"}', user='user-1', anon='anon-1', ip=None, source=M)]},
 {'name': '/engage $set with $time in ms',
  'request': req('GET', '/engage?ip=1&data=' + b64('{"$token":"mp_t","$distinct_id":"u1","$time":1700000000000,"$set":{"plan":"pro"}}').replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')),
  'writeKey': 'mp_t',
  'events': [ev('srvTok01/7/0', '$set', '{"$token":"mp_t","$distinct_id":"u1","$time":1700000000000,"$set":{"plan":"pro"}}', client_time=1700000000000, user='u1', source=M)]},
]
mp_invalid = [
 {'name': 'no data at all', 'request': req('GET', '/track'), 'status': 400, 'message': 'no data'},
 {'name': 'data neither JSON nor base64', 'request': req('GET', '/track?data=%21%21'), 'status': 400, 'message': 'neither JSON nor base64'},
 {'name': 'properties missing', 'request': req('GET', '/track?data=' + b64('{"event":"e"}').replace('=', '%3D')), 'status': 400, 'message': '"properties" must be a JSON object'},
 {'name': 'time is a string', 'request': req('POST', '/track', '{"event":"e","properties":{"token":"t","time":"now"}}'), 'status': 400, 'message': 'must be a number of seconds or ms'},
 {'name': 'two tokens in one request', 'request': req('POST', '/track', '[{"event":"e","properties":{"token":"t1"}},{"event":"e","properties":{"token":"t2"}}]'), 'status': 400, 'message': '2 different tokens'},
 {'name': 'engage with two operations', 'request': req('POST', '/engage', '{"$token":"t","$distinct_id":"u","$set":{},"$unset":["a"]}'), 'status': 400, 'message': 'exactly one of'},
 {'name': 'empty batch', 'request': req('POST', '/track', '[]'), 'status': 400, 'message': 'no events'},
]
write('mixpanel', 'Mixpanel /track, /import and /engage requests (formats/mixpanel.md); same layout as segment/cases.json.', mp_valid, mp_invalid)

# ---------------------------------------------------------------- grouparoo
G = 'grouparoo'
# evt_ guid: sha256("srvTok01/7/0"), first 16 bytes, version 4 and variant bits set (formats/grouparoo.md)
import hashlib
h = bytearray(hashlib.sha256(b'srvTok01/7/0').digest()[:16]); h[6] = (h[6] & 0x0f) | 0x40; h[8] = (h[8] & 0x3f) | 0x80
hx = h.hex(); guid = 'evt_%s-%s-%s-%s-%s' % (hx[:8], hx[8:12], hx[12:16], hx[16:20], hx[20:])
gr_valid = [
 {'name': "seed 002 pageview with apiKey in the body", 'request': req('POST', '/api/v1/track', '{"apiKey":"_key","anonymousId":"person_1","occurredAt":"2023-11-14T22:13:00.000Z","type":"pageview","data":{"path":"/","utm_source":"google"}}', {}, 'application/json'),
  'writeKey': '_key', 'events': [ev(guid, 'pageview', '{"path":"/","utm_source":"google"}', client_time=1699999980000, anon='person_1', source=G)]},
 {'name': "seed 002 sign-in: numeric userId with anonymousId; @grouparoo/client-web's `ocurredAt` spelling; key by Bearer", 'request': req('POST', '/api/v1/track', '{"anonymousId":"person_1","userId":123,"ocurredAt":"2023-11-14T22:13:10.000Z","type":"sign-in","data":{"via":"google-sign-in"}}', {'authorization': 'Bearer _key'}, 'application/json'),
  'writeKey': '_key', 'events': [ev(guid, 'sign-in', '{"via":"google-sign-in"}', client_time=1699999990000, user='123', anon='person_1', source=G)]},
 {'name': 'no occurredAt: the receive time; no data', 'request': req('POST', '/api/v1/track?apiKey=_key', '{"userId":"u","type":"purchase"}'),
  'writeKey': '_key', 'events': [ev(guid, 'purchase', '{}', user='u', source=G)]},
]
gr_invalid = [
 {'name': 'no ids', 'request': req('POST', '/api/v1/track', '{"type":"x","apiKey":"k"}'), 'status': 400, 'message': 'anonymousId is required unless userId'},
 {'name': 'no type', 'request': req('POST', '/api/v1/track', '{"userId":"u","apiKey":"k"}'), 'status': 400, 'message': '"type" must be a non-empty string'},
 {'name': 'data not an object', 'request': req('POST', '/api/v1/track', '{"userId":"u","type":"t","data":"s"}'), 'status': 400, 'message': '"data" must be a JSON object'},
 {'name': 'bad occurredAt', 'request': req('POST', '/api/v1/track', '{"userId":"u","type":"t","occurredAt":"soon"}'), 'status': 400, 'message': 'occurredAt "soon" is not a time'},
 {'name': 'an array body', 'request': req('POST', '/api/v1/track', '[]'), 'status': 400, 'message': 'one event'},
]
write('grouparoo', 'Grouparoo track requests (formats/grouparoo.md); same layout as segment/cases.json.', gr_valid, gr_invalid)
