// The PSP-hosted card field (an iframe on the sandbox's origin), the stand-in for js.stripe.com/v3
// that mounts it, and the 3DS challenge page. The card number is typed into the iframe and posted from
// there straight to the sandbox with the publishable key; the embedding page (our checkout) only ever
// receives a payment method id, a PaymentIntent id/status, or an error.
import type { Route, SandboxRequest, SandboxResponse } from "./http";
import { completeThreeDs, getPaymentIntent } from "./stripe/payment-intents";
import type { StripeCtx } from "./stripe/context";

const html = (body: string): SandboxResponse => ({ status: 200, body, contentType: "text/html; charset=utf-8" });
const js = (body: string): SandboxResponse => ({ status: 200, body, contentType: "application/javascript; charset=utf-8", headers: { "cache-control": "no-store" } });

/** Only a plain http(s) origin may receive the field's messages. */
export function safeOrigin(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const u = new URL(raw);
    return (u.protocol === "http:" || u.protocol === "https:") && u.origin === raw ? raw : undefined;
  } catch {
    return undefined;
  }
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cardFieldPage(pk: string, parentOrigin: string, elementId: string): string {
  const cfg = JSON.stringify({ pk, parentOrigin, elementId }).replace(/</g, "\\u003c");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Card</title>
<style>body{margin:0;font:15px system-ui,sans-serif}form{display:flex;gap:6px}input{padding:8px;border:1px solid #bbb;border-radius:4px;font:inherit;min-width:0}
#n{flex:3}#e{flex:1}#c{flex:1}.err{color:#b00020;font-size:13px;min-height:16px;margin-top:2px}</style></head><body>
<form autocomplete="on" onsubmit="return false"><input id="n" inputmode="numeric" autocomplete="cc-number" placeholder="Card number" aria-label="Card number" data-testid="card-number">
<input id="e" autocomplete="cc-exp" placeholder="MM / YY" aria-label="Expiry" data-testid="card-expiry"><input id="c" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC" aria-label="CVC" data-testid="card-cvc"></form>
<div class="err" id="err" role="alert"></div>
<script>
(function(){var C=${cfg};var $=function(i){return document.getElementById(i)};
function post(m){m.elementId=C.elementId;parent.postMessage(m,C.parentOrigin)}
function digits(){return $("n").value.replace(/\\D/g,"")}
function exp(){var m=/^\\s*(\\d{1,2})\\s*\\/?\\s*(\\d{2,4})\\s*$/.exec($("e").value);return m?{month:m[1],year:m[2].length===2?"20"+m[2]:m[2]}:null}
function state(){var d=digits();return{type:"sandbox:change",empty:!d&&!$("e").value&&!$("c").value,complete:d.length>=12&&!!exp()&&$("c").value.length>=3,brand:/^5/.test(d)?"mastercard":/^4/.test(d)?"visa":"unknown"}}
["n","e","c"].forEach(function(i){$(i).addEventListener("input",function(){$("err").textContent="";post(state())})});
function api(path,params){var b=new URLSearchParams(params);return fetch(path,{method:"POST",headers:{"Authorization":"Bearer "+C.pk,"Content-Type":"application/x-www-form-urlencoded"},body:b}).then(function(r){return r.json()})}
function tokenize(){var e=exp();if(!e)return Promise.resolve({error:{type:"validation_error",code:"incomplete_expiry",message:"Your card's expiration date is incomplete."}});
return api("/v1/payment_methods",{"type":"card","card[number]":digits(),"card[exp_month]":e.month,"card[exp_year]":e.year,"card[cvc]":$("c").value})}
function shown(err){$("err").textContent=err&&err.message||"";return err}
window.addEventListener("message",function(ev){if(ev.origin!==C.parentOrigin||!ev.data||ev.data.elementId!==C.elementId)return;var m=ev.data;
if(m.type==="sandbox:createPaymentMethod"){tokenize().then(function(pm){if(pm.error)return post({type:"sandbox:result",requestId:m.requestId,error:shown(pm.error)});
post({type:"sandbox:result",requestId:m.requestId,paymentMethod:{id:pm.id,type:"card",card:{brand:pm.card.brand,last4:pm.card.last4,exp_month:pm.card.exp_month,exp_year:pm.card.exp_year}}})})}
if(m.type==="sandbox:confirm"){var pi=String(m.clientSecret).split("_secret_")[0];tokenize().then(function(pm){if(pm.error)return post({type:"sandbox:result",requestId:m.requestId,error:shown(pm.error)});
var p={client_secret:m.clientSecret,payment_method:pm.id};if(m.returnUrl)p.return_url=m.returnUrl;return api("/v1/payment_intents/"+encodeURIComponent(pi)+"/confirm",p).then(function(r){
if(r.error)return post({type:"sandbox:result",requestId:m.requestId,error:shown({type:r.error.type,code:r.error.code,decline_code:r.error.decline_code,message:r.error.message}),paymentIntent:r.error.payment_intent?{id:r.error.payment_intent.id,status:r.error.payment_intent.status}:undefined});
post({type:"sandbox:result",requestId:m.requestId,paymentIntent:{id:r.id,status:r.status,client_secret:m.clientSecret,next_action:r.next_action,amount:r.amount,currency:r.currency}})})})}
if(m.type==="sandbox:clear"){$("n").value=$("e").value=$("c").value="";post(state())}
if(m.type==="sandbox:focus")$("n").focus()});
post({type:"sandbox:ready"});})();
</script></body></html>`;
}

/** Stand-in for https://js.stripe.com/v3: what @stripe/stripe-js and react-stripe-js call. */
export function stripeJs(sandboxOrigin: string): string {
  return `/* PayBridge PSP sandbox stand-in for js.stripe.com/v3 (test mode only) */
(function(){if(window.Stripe)return;var S=${JSON.stringify(sandboxOrigin)};var seq=0;
function Emitter(){this.h={}}Emitter.prototype.on=function(e,f){(this.h[e]=this.h[e]||[]).push(f);return this};
Emitter.prototype.off=function(e,f){this.h[e]=(this.h[e]||[]).filter(function(x){return x!==f});return this};
Emitter.prototype.once=function(e,f){var s=this;function w(v){s.off(e,w);f(v)}return this.on(e,w)};
Emitter.prototype.emit=function(e,v){(this.h[e]||[]).slice().forEach(function(f){f(v)})};
function Element(stripe,type,opts){Emitter.call(this);this.stripe=stripe;this.type=type;this.opts=opts||{};this.id="el_"+(++seq)+"_"+Math.random().toString(36).slice(2);this.frame=null}
Element.prototype=Object.create(Emitter.prototype);
Element.prototype.mount=function(target){var node=typeof target==="string"?document.querySelector(target):target;var f=document.createElement("iframe");
f.src=S+"/elements/card?pk="+encodeURIComponent(this.stripe.pk)+"&origin="+encodeURIComponent(location.origin)+"&eid="+encodeURIComponent(this.id);
f.title="Secure card payment input frame";f.setAttribute("allowtransparency","true");f.style.cssText="border:0;width:100%;height:64px;display:block";f.name="__sandboxCardFrame";this.frame=f;node.appendChild(f);this.stripe._els[this.id]=this;return this};
Element.prototype.unmount=function(){if(this.frame&&this.frame.parentNode)this.frame.parentNode.removeChild(this.frame);this.frame=null};
Element.prototype.destroy=function(){this.unmount();delete this.stripe._els[this.id]};
Element.prototype.update=function(o){Object.assign(this.opts,o||{})};Element.prototype.focus=function(){this.send({type:"sandbox:focus"})};Element.prototype.blur=function(){};
Element.prototype.clear=function(){this.send({type:"sandbox:clear"})};Element.prototype.collapse=function(){};
Element.prototype.send=function(m){m.elementId=this.id;if(this.frame&&this.frame.contentWindow)this.frame.contentWindow.postMessage(m,S)};
Element.prototype.request=function(m){var self=this;return new Promise(function(res){m.requestId="rq_"+(++seq);self.stripe._pending[m.requestId]=res;self.send(m)})};
function Elements(stripe,opts){this.stripe=stripe;this.opts=opts||{};this.els={}}
Elements.prototype.create=function(type,o){var e=new Element(this.stripe,type,o);this.els[type]=e;return e};
Elements.prototype.getElement=function(t){return this.els[t]||(typeof t==="object"&&t&&this.els[t.type])||null};
Elements.prototype.update=function(o){Object.assign(this.opts,o||{})};Elements.prototype.fetchUpdates=function(){return Promise.resolve({})};
Elements.prototype.submit=function(){return Promise.resolve({})};Elements.prototype.on=function(){return this};
function anyElement(els){for(var k in els)return els[k];return null}
function challenge(url){return new Promise(function(res){var d=document.createElement("div");d.style.cssText="position:fixed;inset:0;background:rgba(0,0,0,.4);z-index:2147483647;display:flex;align-items:center;justify-content:center";
var f=document.createElement("iframe");f.src=url+(url.indexOf("?")<0?"?":"&")+"embedded=1&origin="+encodeURIComponent(location.origin);f.style.cssText="width:420px;height:320px;border:0;background:#fff;border-radius:8px";f.title="3D Secure challenge";d.appendChild(f);document.body.appendChild(d);
function on(ev){if(ev.origin!==S||!ev.data||ev.data.type!=="sandbox:3ds-done")return;window.removeEventListener("message",on);document.body.removeChild(d);res()}window.addEventListener("message",on)})}
function Stripe(pk,opts){if(!(this instanceof Stripe))return new Stripe(pk,opts);var self=this;this.pk=pk;this._els={};this._pending={};
window.addEventListener("message",function(ev){if(ev.origin!==S||!ev.data)return;var m=ev.data;var el=self._els[m.elementId];
if(m.type==="sandbox:ready"&&el)el.emit("ready",{elementType:el.type});
if(m.type==="sandbox:change"&&el)el.emit("change",{elementType:el.type,empty:m.empty,complete:m.complete,brand:m.brand,value:{type:"card"}});
if(m.type==="sandbox:result"&&self._pending[m.requestId]){var r=self._pending[m.requestId];delete self._pending[m.requestId];r(m)}})}
Stripe.prototype.elements=function(o){return new Elements(this,o)};
Stripe.prototype.registerAppInfo=function(){};Stripe.prototype._registerWrapper=function(){};
Stripe.prototype.createToken=function(){return Promise.resolve({error:{type:"invalid_request_error",message:"createToken is not supported by the sandbox; use createPaymentMethod."}})};
Stripe.prototype.retrievePaymentIntent=function(cs){var id=String(cs).split("_secret_")[0];return fetch(S+"/v1/payment_intents/"+encodeURIComponent(id)+"?client_secret="+encodeURIComponent(cs),{headers:{Authorization:"Bearer "+this.pk}}).then(function(r){return r.json()}).then(function(b){return b.error?{error:b.error}:{paymentIntent:b}})};
Stripe.prototype.createPaymentMethod=function(a){var el=a&&(a.element||(a.card)||(a.elements&&anyElement(a.elements.els)));if(!el)return Promise.resolve({error:{type:"validation_error",message:"No card element."}});
return el.request({type:"sandbox:createPaymentMethod"}).then(function(m){return m.error?{error:m.error}:{paymentMethod:m.paymentMethod}})};
Stripe.prototype._confirm=function(el,cs,returnUrl,redirect){var self=this;if(!el)return Promise.resolve({error:{type:"validation_error",message:"No card element."}});
return el.request({type:"sandbox:confirm",clientSecret:cs,returnUrl:returnUrl}).then(function(m){if(m.error)return{error:Object.assign({},m.error,{payment_intent:m.paymentIntent})};var pi=m.paymentIntent;
if(pi.status==="requires_action"&&pi.next_action&&pi.next_action.redirect_to_url){if(redirect==="always"){location.assign(pi.next_action.redirect_to_url.url);return new Promise(function(){})}
return challenge(pi.next_action.redirect_to_url.url).then(function(){return self.retrievePaymentIntent(cs)}).then(function(r){if(r.paymentIntent&&r.paymentIntent.last_payment_error)return{error:Object.assign({},r.paymentIntent.last_payment_error,{payment_intent:r.paymentIntent})};return r})}
if(redirect==="always"&&returnUrl){var u=new URL(returnUrl,location.href);u.searchParams.set("payment_intent",pi.id);u.searchParams.set("payment_intent_client_secret",cs);u.searchParams.set("redirect_status",pi.status==="succeeded"||pi.status==="requires_capture"||pi.status==="processing"?"succeeded":"failed");location.assign(u.toString());return new Promise(function(){})}
return{paymentIntent:pi}})};
Stripe.prototype.confirmPayment=function(a){a=a||{};var els=a.elements;var cs=a.clientSecret||(els&&els.opts&&els.opts.clientSecret);var cp=a.confirmParams||{};return this._confirm(els&&anyElement(els.els),cs,cp.return_url,a.redirect==="if_required"?"if_required":"always")};
Stripe.prototype.confirmCardPayment=function(cs,data){var pm=data&&data.payment_method;var el=pm&&pm.card;if(!el){for(var k in this._els){el=this._els[k];break}}return this._confirm(el,cs,data&&data.return_url,"if_required")};
Stripe.prototype.handleNextAction=function(a){var self=this;return this.retrievePaymentIntent(a.clientSecret).then(function(r){var pi=r.paymentIntent;if(!pi||pi.status!=="requires_action")return r;return challenge(pi.next_action.redirect_to_url.url).then(function(){return self.retrievePaymentIntent(a.clientSecret)})})};
Stripe.version=3;window.Stripe=Stripe;})();
`;
}

function challengePage(pi: string, clientSecret: string, returnUrl: string, embedded: boolean, origin: string): string {
  const field = (n: string, v: string) => `<input type="hidden" name="${n}" value="${escape(v)}">`;
  const hidden = field("client_secret", clientSecret) + field("return_url", returnUrl) + field("embedded", embedded ? "1" : "") + field("origin", origin);
  return `<!doctype html><html><head><meta charset="utf-8"><title>3D Secure test</title><style>body{font:15px system-ui;padding:24px}button{padding:8px 16px;margin-right:8px}</style></head><body>
<h1 style="font-size:18px">3D Secure 2 test page</h1><p>PaymentIntent ${escape(pi)}. Complete or fail the authentication.</p>
<form method="post" action="/3ds/${encodeURIComponent(pi)}/complete" style="display:inline">${hidden}<button data-testid="3ds-complete">Complete</button></form>
<form method="post" action="/3ds/${encodeURIComponent(pi)}/fail" style="display:inline">${hidden}<button data-testid="3ds-fail">Fail</button></form></body></html>`;
}

function doneEmbedded(origin: string): string {
  return `<!doctype html><html><body><p>Done.</p><script>parent.postMessage({type:"sandbox:3ds-done"},${JSON.stringify(origin)})</script></body></html>`;
}

export function cardFieldRoutes(ctx: StripeCtx, sandboxOrigin: () => string, publishableKey: () => string): Route[] {
  const challengeAction = (outcome: "complete" | "fail") => (req: SandboxRequest, [id = ""]: string[]): SandboxResponse => {
    const pi = getPaymentIntent(ctx, id);
    if (req.body.client_secret !== pi.client_secret) return { status: 404, body: "Unknown PaymentIntent", contentType: "text/plain" };
    completeThreeDs(ctx, undefined, id, outcome); // not a /v1 request: its events go out at once
    const origin = safeOrigin(req.body.origin);
    if (req.body.embedded === "1" && origin) return html(doneEmbedded(origin));
    const ret = typeof req.body.return_url === "string" && /^https?:\/\//.test(req.body.return_url) ? new URL(req.body.return_url) : undefined;
    if (!ret) return html(`<p>Authentication ${outcome === "complete" ? "completed" : "failed"}.</p>`);
    ret.searchParams.set("payment_intent", pi.id);
    ret.searchParams.set("payment_intent_client_secret", pi.client_secret as string);
    ret.searchParams.set("redirect_status", pi.status === "succeeded" || pi.status === "requires_capture" ? "succeeded" : "failed");
    return { status: 303, body: "", headers: { location: ret.toString() }, contentType: "text/plain" };
  };
  return [
    { method: "GET", pattern: /^\/v3\/?(?:stripe\.js)?$/, handle: () => js(stripeJs(sandboxOrigin())) },
    {
      method: "GET",
      pattern: /^\/elements\/card$/,
      handle: (req) => {
        const origin = safeOrigin(req.query.origin);
        if (!origin || req.query.pk !== publishableKey()) return { status: 400, body: "origin and a valid pk are required", contentType: "text/plain" };
        return html(cardFieldPage(publishableKey(), origin, String(req.query.eid ?? "")));
      },
    },
    {
      method: "GET",
      pattern: /^\/3ds\/([^/]+)$/,
      handle: (req, [id = ""]) => {
        const pi = getPaymentIntent(ctx, id);
        if (req.query.client_secret !== pi.client_secret) return { status: 404, body: "Unknown PaymentIntent", contentType: "text/plain" };
        return html(challengePage(id, pi.client_secret as string, String(req.query.return_url ?? ""), req.query.embedded === "1", safeOrigin(req.query.origin) ?? ""));
      },
    },
    { method: "POST", pattern: /^\/3ds\/([^/]+)\/complete$/, handle: challengeAction("complete") },
    { method: "POST", pattern: /^\/3ds\/([^/]+)\/fail$/, handle: challengeAction("fail") },
  ];
}
