//! The interactive parts: the scrubber (both servers' bindings and the clients' view of the
//! violation's addresses at any instant) and the event log (filterable, paged). Each embeds a
//! small JSON blob that the page's JavaScript ([`JS`]) reads.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::bands::Bands;
use super::{Input, all_messages, embed_json, esc};
use crate::event::{Event, Record};
use crate::time::fmt_ms;
use crate::timeline::describe;

/// The scrubber section.
pub fn scrubber(input: &Input, bands: &Bands, end_ms: u64) -> String {
    let subjects = &input.selection.subjects;
    let start = input.trace.violations().next().map_or(0, |(t, _)| t);
    let rows: Vec<Value> = bands
        .rows
        .iter()
        .map(|r| {
            json!({"label": r.label, "spans": r.spans.iter()
                .map(|(a, b, s)| json!([a, b, s])).collect::<Vec<_>>()})
        })
        .collect();
    let chaddrs: std::collections::BTreeMap<String, u32> = all_messages(input)
        .iter()
        .filter_map(|r| match &r.event {
            Event::Dhcp(m) => m.client.map(|c| (m.chaddr.clone(), c)),
            _ => None,
        })
        .collect();
    let addresses: Vec<Value> = subjects
        .addresses
        .iter()
        .map(|a| {
            let mut bindings = serde_json::Map::new();
            for s in &input.trace.header.servers {
                let list: Vec<Value> = input
                    .trace
                    .records
                    .iter()
                    .filter_map(|r| match &r.event {
                        Event::Binding {
                            server,
                            address,
                            state,
                            chaddr,
                            ends_ms,
                        } if server == &s.name && address == a => {
                            let who = chaddr.as_ref().map(|c| match chaddrs.get(c) {
                                Some(n) => format!("{c} (client {n})"),
                                None => c.clone(),
                            });
                            Some(json!([r.t_ms, state, who, ends_ms]))
                        }
                        _ => None,
                    })
                    .collect();
                bindings.insert(s.name.clone(), Value::Array(list));
            }
            let clients: Vec<Value> = input
                .trace
                .records
                .iter()
                .filter_map(|r| match &r.event {
                    Event::Lease {
                        client,
                        address,
                        until_ms,
                    } if address == a => Some(json!([r.t_ms, client, "lease", until_ms])),
                    Event::Lost {
                        client,
                        address,
                        why,
                    } if address == a => Some(json!([r.t_ms, client, "lost", why])),
                    _ => None,
                })
                .collect();
            json!({"address": a, "bindings": bindings, "clients": clients})
        })
        .collect();
    let data = json!({"end": end_ms, "start": start, "rows": rows, "addresses": addresses});
    let mut s = String::from("<section id=\"scrub\"><h2>Scrub to any instant</h2>");
    if subjects.addresses.is_empty() {
        s.push_str(
            "<p class=\"note\">No violation: the scrubber shows each server's failover state. \
             Drag the slider, or click the state bands above.</p>",
        );
    } else {
        let _ = write!(
            s,
            "<p class=\"note\">Both servers' bindings and the clients' view of {} at the \
             instant chosen (it starts at the violation). Drag the slider, or click the state \
             bands above. A server's row changes when the binding's state or client does \
             (a renewal that only moves its end is not a change the trace records).</p>",
            esc(&subjects.addresses.join(", "))
        );
    }
    let _ = writeln!(
        s,
        "<input type=\"range\" id=\"scrub-range\" min=\"0\" max=\"{end_ms}\" value=\"{start}\" \
         step=\"1\"><div>at <b id=\"scrub-at\">{}</b> <button id=\"scrub-back\">◀ 1 s</button> \
         <button id=\"scrub-fwd\">1 s ▶</button></div><div id=\"scrub-view\"></div>\
         <script type=\"application/json\" id=\"scrub-data\">{}</script></section>",
        fmt_ms(start),
        embed_json(&data)
    );
    s
}

/// The server(s) an event is about, for the log's filter.
fn servers_of(e: &Event, servers: &[String]) -> Vec<String> {
    let named = |n: &str| servers.iter().any(|s| s == n).then(|| n.to_string());
    match e {
        Event::Boot { server }
        | Event::BootFailed { server, .. }
        | Event::State { server, .. }
        | Event::Binding { server, .. } => vec![server.clone()],
        Event::Fault(f) => f.servers.clone(),
        Event::Dhcp(m) => [named(&m.from), named(&m.to)]
            .into_iter()
            .flatten()
            .collect(),
        Event::Failover(m) => vec![m.from.clone(), m.to.clone()],
        Event::ConnOpen {
            dialer, acceptor, ..
        } => vec![dialer.clone(), acceptor.clone()],
        Event::ConnClose { by, .. } => vec![by.clone()],
        _ => Vec::new(),
    }
}

fn client_of(e: &Event) -> Option<u32> {
    match e {
        Event::Lease { client, .. }
        | Event::Lost { client, .. }
        | Event::Declined { client, .. } => Some(*client),
        Event::Dhcp(m) => m.client,
        _ => None,
    }
}

fn addresses_of(e: &Event) -> String {
    match e {
        Event::Lease { address, .. }
        | Event::Lost { address, .. }
        | Event::Declined { address, .. }
        | Event::Binding { address, .. } => address.clone(),
        Event::Dhcp(m) => m.address.clone().unwrap_or_default(),
        Event::Failover(m) => m
            .bindings
            .iter()
            .map(|b| b.address.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        Event::Violation(v) => v.addresses.join(" "),
        _ => String::new(),
    }
}

fn type_of(e: &Event) -> String {
    match e {
        Event::Dhcp(m) => m.msg.clone(),
        Event::Failover(m) => m.msg.clone(),
        e => e.kind().to_string(),
    }
}

/// The event log section.
pub fn section(input: &Input, reproduce: Option<&str>) -> String {
    let servers: Vec<String> = input
        .trace
        .header
        .servers
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut records: Vec<&Record> = input
        .trace
        .records
        .iter()
        .filter(|r| !matches!(r.event, Event::Counts(_)))
        .chain(input.messages.iter())
        .collect();
    records.sort_by_key(|r| r.t_ms);
    records.dedup_by(|a, b| a == b);
    let mut types: Vec<String> = Vec::new();
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            let ty = type_of(&r.event);
            if !types.contains(&ty) {
                types.push(ty.clone());
            }
            json!([
                r.t_ms,
                ty,
                servers_of(&r.event, &servers),
                client_of(&r.event),
                addresses_of(&r.event),
                describe(&r.event)
            ])
        })
        .collect();
    types.sort();
    let mut s = String::from("<section id=\"log\"><h2>Event log</h2>");
    let sel = &input.selection;
    let left: Vec<String> = sel
        .left_out
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = write!(
        s,
        "<p class=\"note\">{} events: every fault, boot, failover state change, violation and \
         property; every event about the violation's addresses and clients; and at most {} of \
         each bulky kind (leases, losses, bindings, messages) besides.",
        rows.len(),
        super::LOG_BULK_EVENTS
    );
    if left.is_empty() {
        s.push_str(" Nothing was left out.");
    } else {
        let _ = write!(
            s,
            " Left out: {} (the counts samples are charted above).",
            esc(&left.join(", "))
        );
    }
    let again = match reproduce {
        Some(cmd) => format!("<code>{} --full-trace</code>", esc(cmd)),
        None => "<code>dhcpfo replay DIR/repro.yaml --full-trace</code>".to_string(),
    };
    let _ = write!(
        s,
        " Everything is in the run's <code>trace.jsonl</code>; every message too with {again}.</p>"
    );
    s.push_str(
        "<div class=\"controls\"><label>server <select id=\"f-server\"><option value=\"\">any\
         </option>",
    );
    for sv in &servers {
        let _ = write!(s, "<option>{}</option>", esc(sv));
    }
    s.push_str(
        "</select></label><label>client <input id=\"f-client\" size=\"6\" \
         placeholder=\"number\"></label><label>address <input id=\"f-address\" size=\"12\" \
         placeholder=\"10.0.1.25\"></label><label>type <select id=\"f-type\"><option \
         value=\"\">any</option>",
    );
    for t in &types {
        let _ = write!(s, "<option>{}</option>", esc(t));
    }
    let _ = writeln!(
        s,
        "</select></label><button id=\"f-prev\">◀ earlier</button><span id=\"f-page\"></span>\
         <button id=\"f-next\">later ▶</button></div><table><thead><tr><th>time</th><th>type\
         </th><th>servers</th><th>client</th><th>address</th><th>event</th></tr></thead>\
         <tbody id=\"log-rows\"></tbody></table><script type=\"application/json\" \
         id=\"log-data\">{}</script></section>",
        embed_json(&Value::Array(rows))
    );
    s
}

/// The page's script: the scrubber and the log. It marks the page `data-ok="1"` once it has
/// run, and `data-error` if anything threw, so a headless browser can tell.
pub const JS: &str = r#"
window.addEventListener('error', function(e){document.body.dataset.error=String(e.message||e);});
(function(){
function fmt(ms){var h=Math.floor(ms/3600000),m=Math.floor(ms/60000)%60,s=Math.floor(ms/1000)%60,l=ms%1000;
 function p(x,n){return String(x).padStart(n,'0');}
 if(h>0)return '+'+h+'h'+p(m,2)+'m'+p(s,2)+'.'+p(l,3)+'s';
 if(m>0)return '+'+m+'m'+p(s,2)+'.'+p(l,3)+'s';
 return '+'+s+'.'+p(l,3)+'s';}
function el(tag,text,cls){var e=document.createElement(tag);if(text!==undefined)e.textContent=text;if(cls)e.className=cls;return e;}
var sd=JSON.parse(document.getElementById('scrub-data').textContent);
var range=document.getElementById('scrub-range'),view=document.getElementById('scrub-view'),atEl=document.getElementById('scrub-at');
function last(list,t){var x=null;for(var i=0;i<list.length;i++){if(list[i][0]<=t)x=list[i];else break;}return x;}
function show(t){
 t=Math.max(0,Math.min(sd.end,t));range.value=t;atEl.textContent=fmt(t);view.innerHTML='';
 var tb=el('table');var hr=el('tr');hr.appendChild(el('th','who'));hr.appendChild(el('th','at this instant'));tb.appendChild(hr);
 sd.rows.forEach(function(r){var st='(not running)';r.spans.forEach(function(s){if(s[0]<=t&&(t<s[1]||s[1]===sd.end))st=s[2]+' since '+fmt(s[0]);});
  var tr=el('tr');tr.appendChild(el('td',r.label+' failover state'));tr.appendChild(el('td',st));tb.appendChild(tr);});
 view.appendChild(tb);
 sd.addresses.forEach(function(a){
  view.appendChild(el('h3',a.address));var t2=el('table');
  Object.keys(a.bindings).forEach(function(s){var b=last(a.bindings[s],t);var txt='FREE (no change recorded yet)';
   if(b){txt=b[1]+(b[2]?' to '+b[2]:'')+' (since '+fmt(b[0])+(b[3]!==null&&b[3]!==undefined?', ending '+fmt(b[3])+' when bound':'')+')';}
   var tr=el('tr');tr.appendChild(el('td',s+"'s database"));tr.appendChild(el('td',txt));t2.appendChild(tr);});
  var seen={},order=[];a.clients.forEach(function(c){if(c[0]<=t){seen[c[1]]=c;} if(order.indexOf(c[1])<0)order.push(c[1]);});
  var holders=0;order.forEach(function(c){var x=seen[c];if(x&&x[2]==='lease'&&x[3]>t)holders++;});
  order.forEach(function(c){var x=seen[c];var txt,cls;
   if(!x)txt='has not held it yet';else if(x[2]==='lease'&&x[3]>t){txt='holds it until '+fmt(x[3])+' (lease accepted '+fmt(x[0])+')';cls=holders>1?'hold':'';}
   else if(x[2]==='lease')txt='its lease ran out at '+fmt(x[3]);else txt='gave it up at '+fmt(x[0])+' ('+x[3]+')';
   var tr=el('tr');tr.appendChild(el('td','client '+c+' believes'));tr.appendChild(el('td',txt,cls));t2.appendChild(tr);});
  if(holders>1){var tr=el('tr');tr.appendChild(el('td',''));tr.appendChild(el('td',holders+' clients hold '+a.address+' at once','hold'));t2.appendChild(tr);}
  view.appendChild(t2);});
}
range.addEventListener('input',function(){show(+range.value);});
document.getElementById('scrub-back').addEventListener('click',function(){show(+range.value-1000);});
document.getElementById('scrub-fwd').addEventListener('click',function(){show(+range.value+1000);});
document.querySelectorAll('.scrubbable').forEach(function(d){d.addEventListener('click',function(ev){
 var svg=d.querySelector('svg');if(!svg)return;var r=svg.getBoundingClientRect();var scale=r.width/(+d.dataset.w);
 var x=(ev.clientX-r.left)/scale;var x0=+d.dataset.x0,x1=+d.dataset.x1;if(x1<=x0)return;
 show(Math.round((x-x0)/(x1-x0)*(+d.dataset.end)));document.getElementById('scrub').scrollIntoView({behavior:'smooth'});});});
show(sd.start);
var rows=JSON.parse(document.getElementById('log-data').textContent),PAGE=100,page=0;
var fs=document.getElementById('f-server'),fc=document.getElementById('f-client'),fa=document.getElementById('f-address'),ft=document.getElementById('f-type');
var body=document.getElementById('log-rows'),pageEl=document.getElementById('f-page');
function matching(){var s=fs.value,c=fc.value.trim(),a=fa.value.trim(),ty=ft.value;
 return rows.filter(function(r){return (!s||r[2].indexOf(s)>=0)&&(!c||String(r[3])===c)&&(!a||r[4].indexOf(a)>=0)&&(!ty||r[1]===ty);});}
function render(){var m=matching();var pages=Math.max(1,Math.ceil(m.length/PAGE));page=Math.max(0,Math.min(page,pages-1));
 body.innerHTML='';m.slice(page*PAGE,(page+1)*PAGE).forEach(function(r){var tr=el('tr',undefined,'k-'+r[1]);
  tr.appendChild(el('td',fmt(r[0])));tr.appendChild(el('td',r[1]));tr.appendChild(el('td',r[2].join(' ')));
  tr.appendChild(el('td',r[3]===null?'':String(r[3])));tr.appendChild(el('td',r[4]));tr.appendChild(el('td',r[5],'text'));body.appendChild(tr);});
 pageEl.textContent=' page '+(page+1)+' of '+pages+' ('+m.length+' events) ';}
[fs,ft].forEach(function(x){x.addEventListener('change',function(){page=0;render();});});
[fc,fa].forEach(function(x){x.addEventListener('input',function(){page=0;render();});});
document.getElementById('f-prev').addEventListener('click',function(){page--;render();});
document.getElementById('f-next').addEventListener('click',function(){page++;render();});
render();
document.body.dataset.ok='1';
})();
"#;
