"""The HTML report: one self-contained, offline file (no network, no third-party code).

Contents: the headline statistics; a candlestick chart per symbol with pattern markers (the
patterns of each signal, at the signal's bar) and trades (entry triangles, exit dots, a line from
entry to exit, green for a profit and red for a loss), zoomable with the mouse wheel, draggable,
with an overview strip and range buttons; equity and drawdown curves; Lean's statistics table; a
per-pattern table (trades, win rate, average R, and calibration: the win rate by confidence
bucket); the list of trades.

The page's own script (:data:`SCRIPT`, canvas drawing) sets ``data-drawn="1"`` on each chart it has
drawn and ``data-rendered="1"`` on ``<body>`` once everything is drawn; a script error sets
``data-error`` on ``<body>`` (the report tests read these in headless Chromium). Histories longer
than :data:`MAX_CANDLES` bars are merged into wider candles for the chart (stated on the page).
"""

# ruff: noqa: E501  (the page's embedded CSS, script and markup keep their own line lengths)
from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alphapulse.journal import Direction

if TYPE_CHECKING:
    from alphapulse_tools.runner.backtest import BacktestOutcome
    from alphapulse_tools.runner.statistics import DailySeries
    from alphapulse_tools.runner.trades import Trade

#: most candles embedded per symbol; longer histories are merged into wider candles
MAX_CANDLES = 20_000
#: most points of the equity and drawdown curves
MAX_CURVE_POINTS = 4_000
#: confidence buckets of the calibration table (lower edges; the last bucket includes 1.0)
CONFIDENCE_BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)

HEADLINE = ("Net Profit", "Compounding Annual Return", "Drawdown", "Sharpe Ratio", "Sortino Ratio",
            "Probabilistic Sharpe Ratio", "Win Rate", "Total Orders", "Total Fees", "End Equity")


def _candles(bars: Any) -> tuple[dict[str, list[float]], int]:
    """Chart columns (seconds, o, h, l, c), merging ``group`` bars per candle when there are many."""
    n = len(bars)
    group = max(1, math.ceil(n / MAX_CANDLES))
    if group == 1:
        return {"t": (bars.time // 1_000_000_000).tolist(), "o": bars.open.tolist(), "h": bars.high.tolist(),
                "l": bars.low.tolist(), "c": bars.close.tolist()}, 1
    starts = np.arange(0, n, group)
    ends = np.minimum(starts + group, n) - 1
    return {"t": (bars.time[starts] // 1_000_000_000).tolist(), "o": bars.open[starts].tolist(),
            "h": np.maximum.reduceat(bars.high, starts).tolist(),
            "l": np.minimum.reduceat(bars.low, starts).tolist(), "c": bars.close[ends].tolist()}, group


def _curve(time_ns: np.ndarray, values: np.ndarray) -> dict[str, list[float]]:
    step = max(1, math.ceil(len(values) / MAX_CURVE_POINTS))
    idx = np.unique(np.concatenate([np.arange(0, len(values), step), [len(values) - 1]])) if len(values) \
        else np.arange(0)
    return {"t": (time_ns[idx] // 1_000_000_000).tolist(), "v": [round(float(x), 6) for x in values[idx]]}


def pattern_table(trades: list[Trade]) -> list[dict[str, Any]]:
    """Per pattern (of the entry signal): trades, wins, win rate, average R and calibration buckets."""
    rows: dict[str, dict[str, Any]] = {}
    for trade in trades:
        if not trade.is_closed:
            continue
        win = trade.profit > 0
        r = trade.r_multiple
        for hit in trade.signal.patterns:
            row = rows.setdefault(hit.name, {"pattern": hit.name, "trades": 0, "wins": 0, "r": [],
                                             "buckets": [[0, 0] for _ in CONFIDENCE_BUCKETS]})
            row["trades"] += 1
            row["wins"] += int(win)
            if r is not None:
                row["r"].append(r)
            k = max(i for i, edge in enumerate(CONFIDENCE_BUCKETS) if hit.confidence >= edge or i == 0)
            row["buckets"][k][0] += 1
            row["buckets"][k][1] += int(win)
    out = []
    for row in sorted(rows.values(), key=lambda r: (-r["trades"], r["pattern"])):
        rs = row.pop("r")
        row["win_rate"] = row["wins"] / row["trades"] if row["trades"] else 0.0
        row["average_r"] = float(np.mean(rs)) if rs else None
        out.append(row)
    return out


def _markers(outcome: BacktestOutcome, symbol: str, bars: Any, group: int) -> dict[str, Any]:
    index = {int(t): i for i, t in enumerate(bars.time)}
    patterns = []
    for s in outcome.signals:
        if s.symbol != symbol or not s.patterns:
            continue
        i = index.get(int(s.time))
        if i is None:
            continue
        patterns.append({"i": i // group, "d": int(s.direction),
                         "n": ", ".join(f"{p.name} {p.confidence:.2f}" for p in s.patterns)})
    trades = []
    for t in outcome.result.trades:
        if t.symbol != symbol:
            continue
        trades.append({"a": t.entry_index // group, "ap": t.entry_price,
                       "b": t.exit_index // group if t.is_closed else -1, "bp": t.exit_price,
                       "d": int(t.direction), "p": round(t.profit, 2), "r": t.exit_reason,
                       "s": t.stop, "g": t.target})
    return {"patterns": patterns, "trades": trades}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _trade_rows(trades: list[Trade], limit: int = 500) -> str:
    from alphapulse.bars import format_time

    rows = []
    for t in trades[-limit:]:
        r = t.r_multiple
        cls = "win" if t.profit > 0 else "loss"
        rows.append(
            f"<tr class='{cls if t.is_closed else ''}'><td>{html.escape(t.symbol)}</td>"
            f"<td>{'long' if t.direction == Direction.LONG else 'short'}</td>"
            f"<td>{format_time(t.entry_time)}</td><td>{_fmt(t.entry_price, 4)}</td>"
            f"<td>{format_time(t.exit_time) if t.is_closed else 'open'}</td>"
            f"<td>{_fmt(t.exit_price, 4) if t.is_closed else '–'}</td><td>{t.quantity:g}</td>"
            f"<td>{html.escape(t.exit_reason or '–')}</td><td>{_fmt(t.fees)}</td>"
            f"<td>{_fmt(t.profit) if t.is_closed else '–'}</td><td>{_fmt(r)}</td></tr>")
    return "\n".join(rows)


def _pattern_rows(table: list[dict[str, Any]]) -> str:
    rows = []
    for row in table:
        cells = []
        for n, wins in row["buckets"]:
            cells.append(f"<td>{f'{wins / n:.0%} <small>({n})</small>' if n else '–'}</td>")
        rows.append(f"<tr><td>{html.escape(row['pattern'])}</td><td>{row['trades']}</td>"
                    f"<td>{row['win_rate']:.0%}</td><td>{_fmt(row['average_r'])}</td>{''.join(cells)}</tr>")
    return "\n".join(rows) or f"<tr><td colspan='{4 + len(CONFIDENCE_BUCKETS)}'>no trade entered on a " \
                              "candlestick pattern</td></tr>"


def render_report(*, title: str, outcome: BacktestOutcome, daily: DailySeries) -> str:
    """The report's HTML text."""
    result = outcome.result
    charts = {}
    notes = []
    for symbol, bars in outcome.bars.items():
        candles, group = _candles(bars)
        if group > 1:
            notes.append(f"{symbol}: {len(bars):,} bars shown as {len(candles['t']):,} candles of {group} bars")
        charts[symbol] = {"candles": candles, **_markers(outcome, symbol, bars, group)}
    equity = _curve(result.equity_time, result.equity)
    peaks = np.maximum.accumulate(result.equity) if len(result.equity) else result.equity
    drawdown = _curve(result.equity_time, (result.equity / peaks - 1.0) * 100 if len(peaks) else peaks)
    data = {"charts": charts, "equity": equity, "drawdown": drawdown, "start": result.start_cash}
    stats = outcome.statistics
    headline = "".join(f"<div class='kpi'><span>{html.escape(k)}</span><b>{html.escape(stats.get(k, ''))}</b>"
                       f"</div>" for k in HEADLINE)
    stat_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in stats.items())
    bucket_heads = "".join(
        f"<th>{lo:.1f}–{(CONFIDENCE_BUCKETS[i + 1] if i + 1 < len(CONFIDENCE_BUCKETS) else 1.0):.1f}</th>"
        for i, lo in enumerate(CONFIDENCE_BUCKETS))
    options = "".join(f"<option>{html.escape(s)}</option>" for s in charts)
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return TEMPLATE.format(
        title=html.escape(title), headline=headline, stat_rows=stat_rows, bucket_heads=bucket_heads,
        pattern_rows=_pattern_rows(pattern_table(result.trades)), trade_rows=_trade_rows(result.trades),
        trade_count=f"{len(result.trades)}{', the last 500 shown' if len(result.trades) > 500 else ''}",
        options=options,
        notes=html.escape("; ".join(notes)), data=payload, style=STYLE, script=SCRIPT)


def write_report(path: Path, *, title: str, outcome: BacktestOutcome, daily: DailySeries) -> None:
    """Write the report to ``path``."""
    Path(path).write_text(render_report(title=title, outcome=outcome, daily=daily), encoding="utf-8")


STYLE = """
:root{--bg:#f6f7f9;--panel:#fff;--ink:#1d2330;--mute:#6b7385;--line:#e3e6ec;--up:#1a9c6b;--down:#d4483b;
--accent:#3857d6}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
background:var(--bg);color:var(--ink)}header{padding:18px 28px 8px}h1{font-size:20px;margin:0 0 4px}
header p{margin:0;color:var(--mute)}main{padding:8px 28px 28px;display:grid;gap:16px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.panel h2{font-size:15px;margin:0 0 10px}.kpis{display:grid;grid-template-columns:repeat(5,1fr);gap:10px}
.kpi{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.kpi span{display:block;color:var(--mute);font-size:12px}.kpi b{font-size:18px}
.bar{display:flex;gap:8px;align-items:center;margin-bottom:8px;flex-wrap:wrap}
button,select{font:inherit;border:1px solid var(--line);background:#fff;border-radius:6px;padding:3px 10px;
cursor:pointer}button:hover{border-color:var(--accent)}.legend{color:var(--mute);font-size:12px;margin-left:auto}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
canvas{width:100%;display:block}#price{height:430px}#overview{height:54px;margin-top:6px}
#equity,#drawdown{height:190px}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;
border-bottom:1px solid var(--line);white-space:nowrap}thead th{color:var(--mute);font-weight:600}
.stats th{font-weight:500;color:var(--mute)}.stats td{text-align:right;font-variant-numeric:tabular-nums}
tr.win td:last-child,tr.win td:nth-last-child(2){color:var(--up)}tr.loss td:last-child,
tr.loss td:nth-last-child(2){color:var(--down)}.scroll{max-height:360px;overflow:auto}
small{color:var(--mute)}#tip{position:fixed;pointer-events:none;background:#1d2330;color:#fff;font-size:12px;
padding:5px 8px;border-radius:6px;display:none;white-space:pre;z-index:5}.note{color:var(--mute);font-size:12px}
"""

SCRIPT = r"""
(function(){
"use strict";
var DATA=JSON.parse(document.getElementById("report-data").textContent);
var UP="#1a9c6b",DOWN="#d4483b",INK="#1d2330",MUTE="#6b7385",LINE="#e3e6ec",ACC="#3857d6";
var tip=document.getElementById("tip");
function setup(c){var r=window.devicePixelRatio||1,w=c.clientWidth,h=c.clientHeight;c.width=Math.round(w*r);
 c.height=Math.round(h*r);var g=c.getContext("2d");g.setTransform(r,0,0,r,0,0);g.clearRect(0,0,w,h);
 return {g:g,w:w,h:h};}
function fmt(v){var a=Math.abs(v);return a>=1000?v.toLocaleString("en-US",{maximumFractionDigits:0}):
 a>=1?v.toFixed(2):v.toPrecision(4);}
function day(t){return new Date(t*1000).toISOString().slice(0,10);}
function stamp(t){return new Date(t*1000).toISOString().slice(0,16).replace("T"," ");}
function niceTicks(lo,hi,n){var span=hi-lo||1,step=Math.pow(10,Math.floor(Math.log10(span/n))),e=span/n/step;
 step*=e>=5?10:e>=2?5:e>=1?2:1;var out=[];for(var v=Math.ceil(lo/step)*step;v<=hi;v+=step)out.push(v);return out;}
var sym=Object.keys(DATA.charts)[0],view={a:0,b:0};
function chart(){return DATA.charts[sym];}
function resetView(){var n=chart().candles.t.length;view.a=0;view.b=n;}
function drawPrice(){
 var C=chart(),K=C.candles,c=document.getElementById("price"),s=setup(c),g=s.g,W=s.w,H=s.h;
 var padL=8,padR=70,padT=10,padB=24,pw=W-padL-padR,ph=H-padT-padB;
 var a=Math.max(0,Math.floor(view.a)),b=Math.min(K.t.length,Math.ceil(view.b));if(b<=a)return;
 var lo=Infinity,hi=-Infinity;for(var i=a;i<b;i++){if(K.l[i]<lo)lo=K.l[i];if(K.h[i]>hi)hi=K.h[i];}
 var m=(hi-lo)*0.06||1;lo-=m;hi+=m;var n=view.b-view.a,bw=pw/n;
 function X(i){return padL+(i-view.a+0.5)*bw;}function Y(v){return padT+(hi-v)/(hi-lo)*ph;}
 g.strokeStyle=LINE;g.fillStyle=MUTE;g.font="11px system-ui";g.lineWidth=1;
 niceTicks(lo,hi,6).forEach(function(v){var y=Math.round(Y(v))+0.5;g.beginPath();g.moveTo(padL,y);
  g.lineTo(W-padR,y);g.stroke();g.fillText(fmt(v),W-padR+6,y+4);});
 var every=Math.max(1,Math.ceil(n/8));for(var j=Math.ceil(view.a/every)*every;j<b;j+=every){if(j<a)continue;
  var label=n>400?day(K.t[j]):stamp(K.t[j]);g.fillText(label,Math.max(padL,Math.min(X(j)-30,W-padR-g.measureText(label).width)),H-6);}
 g.save();g.beginPath();g.rect(padL,padT,pw,ph);g.clip();
 var body=Math.max(1,bw*0.7);
 for(i=a;i<b;i++){var up=K.c[i]>=K.o[i],x=X(i);g.strokeStyle=g.fillStyle=up?UP:DOWN;
  if(bw<2.5){g.beginPath();g.moveTo(x,Y(K.h[i]));g.lineTo(x,Y(K.l[i]));g.stroke();continue;}
  g.beginPath();g.moveTo(Math.round(x)+0.5,Y(K.h[i]));g.lineTo(Math.round(x)+0.5,Y(K.l[i]));g.stroke();
  var y1=Y(Math.max(K.o[i],K.c[i])),y2=Y(Math.min(K.o[i],K.c[i]));g.fillRect(x-body/2,y1,body,Math.max(1,y2-y1));}
 var tri=Math.min(7,Math.max(3.5,bw*0.9));
 C.patterns.forEach(function(p){if(p.i<a||p.i>=b)return;var x=X(p.i);
  if(p.d>=0){var y=Y(K.l[p.i])+tri+4;g.fillStyle="#8a5cf6";g.beginPath();g.arc(x,y,tri*0.55,0,7);g.fill();}
  else{y=Y(K.h[p.i])-tri-4;g.fillStyle="#8a5cf6";g.beginPath();g.arc(x,y,tri*0.55,0,7);g.fill();}});
 C.trades.forEach(function(t){var end=t.b<0?K.t.length-1:t.b;if(end<a||t.a>=b)return;
  var col=t.p>=0?UP:DOWN;g.strokeStyle=col;g.setLineDash([4,3]);g.lineWidth=1.2;g.beginPath();
  g.moveTo(X(t.a),Y(t.ap));g.lineTo(X(end),Y(t.b<0?K.c[end]:t.bp));g.stroke();g.setLineDash([]);
  var x=X(t.a),y=Y(t.ap);g.fillStyle=t.d>0?UP:DOWN;g.beginPath();
  if(t.d>0){g.moveTo(x,y+2);g.lineTo(x-tri,y+2+tri*1.6);g.lineTo(x+tri,y+2+tri*1.6);}
  else{g.moveTo(x,y-2);g.lineTo(x-tri,y-2-tri*1.6);g.lineTo(x+tri,y-2-tri*1.6);}g.fill();
  if(t.b>=0){g.fillStyle="#fff";g.strokeStyle=col;g.lineWidth=2;g.beginPath();g.arc(X(t.b),Y(t.bp),tri*0.6,0,7);
   g.fill();g.stroke();g.lineWidth=1;}});
 g.restore();g.strokeStyle=LINE;g.strokeRect(padL+0.5,padT+0.5,pw,ph);
 c.dataset.drawn="1";c._geo={padL:padL,pw:pw,n:n};}
function drawOverview(){
 var K=chart().candles,c=document.getElementById("overview"),s=setup(c),g=s.g,W=s.w,H=s.h,N=K.t.length;
 var padL=8,padR=70,pw=W-padL-padR,lo=Math.min.apply(null,K.l),hi=Math.max.apply(null,K.h);
 g.strokeStyle=MUTE;g.lineWidth=1;g.beginPath();var step=Math.max(1,Math.floor(N/pw));
 for(var i=0;i<N;i+=step){var x=padL+i/N*pw,y=4+(hi-K.c[i])/(hi-lo||1)*(H-8);if(i===0)g.moveTo(x,y);else g.lineTo(x,y);}
 g.stroke();g.fillStyle="rgba(56,87,214,0.13)";g.strokeStyle=ACC;var xa=padL+view.a/N*pw,xb=padL+view.b/N*pw;
 g.fillRect(xa,0,Math.max(2,xb-xa),H);g.strokeRect(xa+0.5,0.5,Math.max(2,xb-xa),H-1);c.dataset.drawn="1";
 c._geo={padL:padL,pw:pw,n:N};}
function drawCurve(id,curve,color,fill,unit){
 var c=document.getElementById(id),s=setup(c),g=s.g,W=s.w,H=s.h,T=curve.t,V=curve.v;
 var padL=8,padR=70,padT=8,padB=22,pw=W-padL-padR,ph=H-padT-padB;if(!T.length){c.dataset.drawn="1";return;}
 var lo=Math.min.apply(null,V),hi=Math.max.apply(null,V);if(unit==="%"){hi=Math.max(hi,0);}
 var m=(hi-lo)*0.05||1;lo-=m;hi+=m;var t0=T[0],t1=T[T.length-1]||t0+1;
 function X(t){return padL+(t-t0)/((t1-t0)||1)*pw;}function Y(v){return padT+(hi-v)/(hi-lo)*ph;}
 g.strokeStyle=LINE;g.fillStyle=MUTE;g.font="11px system-ui";
 niceTicks(lo,hi,4).forEach(function(v){var y=Math.round(Y(v))+0.5;g.beginPath();g.moveTo(padL,y);g.lineTo(W-padR,y);
  g.stroke();g.fillText(fmt(v)+(unit==="%"?"%":""),W-padR+6,y+4);});
 for(var k=0;k<5;k++){var tt=t0+(t1-t0)*k/4;g.textAlign=k===0?"left":k===4?"right":"center";
  g.fillText(day(tt),X(tt),H-5);}g.textAlign="left";
 g.beginPath();for(var i=0;i<T.length;i++){if(i===0)g.moveTo(X(T[i]),Y(V[i]));else g.lineTo(X(T[i]),Y(V[i]));}
 g.strokeStyle=color;g.lineWidth=1.5;g.stroke();
 if(fill){g.lineTo(X(T[T.length-1]),Y(unit==="%"?0:lo));g.lineTo(X(T[0]),Y(unit==="%"?0:lo));g.closePath();
  g.fillStyle=fill;g.fill();}
 if(unit!=="%"){g.setLineDash([4,4]);g.strokeStyle=MUTE;g.beginPath();var ys=Y(DATA.start);g.moveTo(padL,ys);
  g.lineTo(W-padR,ys);g.stroke();g.setLineDash([]);}
 c.dataset.drawn="1";}
function drawAll(){drawPrice();drawOverview();drawCurve("equity",DATA.equity,ACC,"rgba(56,87,214,0.08)","$");
 drawCurve("drawdown",DATA.drawdown,DOWN,"rgba(212,72,59,0.15)","%");document.body.dataset.rendered="1";}
function zoom(center,factor){var N=chart().candles.t.length,n=(view.b-view.a)*factor;n=Math.max(20,Math.min(N,n));
 var a=center-(center-view.a)*n/(view.b-view.a);a=Math.max(0,Math.min(N-n,a));view.a=a;view.b=a+n;
 drawPrice();drawOverview();}
var price=document.getElementById("price"),over=document.getElementById("overview");
price.addEventListener("wheel",function(e){e.preventDefault();var G=price._geo,r=price.getBoundingClientRect();
 var i=view.a+(e.clientX-r.left-G.padL)/G.pw*(view.b-view.a);zoom(i,e.deltaY>0?1.25:0.8);},{passive:false});
var drag=null;price.addEventListener("mousedown",function(e){drag={x:e.clientX,a:view.a,b:view.b};});
window.addEventListener("mouseup",function(){drag=null;});
window.addEventListener("mousemove",function(e){if(drag){var G=price._geo,N=chart().candles.t.length,
 d=(drag.x-e.clientX)/G.pw*(drag.b-drag.a),a=Math.max(0,Math.min(N-(drag.b-drag.a),drag.a+d));
 view.a=a;view.b=a+(drag.b-drag.a);drawPrice();drawOverview();return;}
 var r=price.getBoundingClientRect();if(e.clientX<r.left||e.clientX>r.right||e.clientY<r.top||e.clientY>r.bottom){
 tip.style.display="none";return;}var G2=price._geo;if(!G2)return;var K=chart().candles;
 var i=Math.floor(view.a+(e.clientX-r.left-G2.padL)/G2.pw*(view.b-view.a));if(i<0||i>=K.t.length)return;
 var lines=[stamp(K.t[i]),"O "+fmt(K.o[i])+"  H "+fmt(K.h[i]),"L "+fmt(K.l[i])+"  C "+fmt(K.c[i])];
 chart().patterns.forEach(function(p){if(p.i===i)lines.push("pattern: "+p.n);});
 chart().trades.forEach(function(t){if(t.a===i)lines.push((t.d>0?"buy ":"sell ")+fmt(t.ap)+" stop "+
  (t.s===null?"-":fmt(t.s))+" target "+(t.g===null?"-":fmt(t.g)));
  if(t.b===i)lines.push("exit "+fmt(t.bp)+" ("+t.r+") P&L "+fmt(t.p));});
 tip.textContent=lines.join("\n");tip.style.display="block";tip.style.left=(e.clientX+14)+"px";
 tip.style.top=(e.clientY+14)+"px";});
over.addEventListener("click",function(e){var G=over._geo,r=over.getBoundingClientRect();
 var i=(e.clientX-r.left-G.padL)/G.pw*G.n,n=view.b-view.a;view.a=Math.max(0,Math.min(G.n-n,i-n/2));view.b=view.a+n;
 drawPrice();drawOverview();});
document.querySelectorAll("[data-range]").forEach(function(b){b.addEventListener("click",function(){
 var N=chart().candles.t.length,K=chart().candles,span=Number(b.dataset.range);if(!span){resetView();}
 else{var end=K.t[N-1],a=N-1;while(a>0&&K.t[a-1]>end-span)a--;view.a=a;view.b=N;}drawPrice();drawOverview();});});
var sel=document.getElementById("symbol");sel.addEventListener("change",function(){sym=sel.value;resetView();
 drawPrice();drawOverview();});
window.addEventListener("resize",drawAll);
resetView();drawAll();
})();
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>AlphaPulse backtest · {title}</title><style>{style}</style></head>
<body>
<script>window.addEventListener("error",function(e){{document.body.dataset.error=String(e.message);}});</script>
<header><h1>AlphaPulse backtest · {title}</h1>
<p>Local runner, Lean's default fill semantics. <span class="note">{notes}</span></p></header>
<main>
<section class="kpis">{headline}</section>
<section class="panel"><div class="bar"><select id="symbol">{options}</select>
<button data-range="0">All</button><button data-range="7776000">3M</button><button data-range="2592000">1M</button>
<button data-range="604800">1W</button><span class="note">wheel: zoom · drag: pan · overview: jump</span>
<span class="legend"><i style="background:#1a9c6b"></i>entry / winning exit<i style="background:#d4483b"></i>losing
exit<i style="background:#8a5cf6;border-radius:5px"></i>pattern</span></div>
<canvas id="price"></canvas><canvas id="overview"></canvas></section>
<section class="grid2"><div class="panel"><h2>Equity</h2><canvas id="equity"></canvas></div>
<div class="panel"><h2>Drawdown</h2><canvas id="drawdown"></canvas></div></section>
<section class="grid2"><div class="panel"><h2>Statistics</h2><table class="stats">{stat_rows}</table></div>
<div class="panel"><h2>Patterns</h2><p class="note">Trades entered on a signal with each pattern; average R is
the exit's distance from the entry in stop distances; calibration: win rate (trades) by the pattern's confidence.
</p><div class="scroll"><table><thead><tr><th>Pattern</th><th>Trades</th><th>Win rate</th><th>Avg R</th>
{bucket_heads}</tr></thead><tbody>{pattern_rows}</tbody></table></div></div></section>
<section class="panel"><h2>Trades ({trade_count})</h2><div class="scroll"><table><thead><tr><th>Symbol</th>
<th>Side</th><th>Entry time</th><th>Entry</th><th>Exit time</th><th>Exit</th><th>Quantity</th><th>Exit by</th>
<th>Fees</th><th>Net P&amp;L</th><th>R</th></tr></thead><tbody>{trade_rows}</tbody></table></div></section>
</main><div id="tip"></div>
<script type="application/json" id="report-data">{data}</script>
<script>{script}</script>
</body></html>
"""
