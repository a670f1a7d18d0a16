// The playground page: the course's step (on this thread: one call of the engine per edit), the
// training panel (its Trainer lives in worker.js), the self-test (?selftest) and the timing hook
// for WebDriver (window.playgroundTimings).
'use strict';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const fixed6 = (v) => (typeof v === 'number' && isFinite(v) ? (Object.is(v, -0) ? 0 : v).toFixed(6) : String(v));
const svgNS = 'http://www.w3.org/2000/svg';

// The weights of the course's network in the slides' notation, in the module's order:
// w1 = [w_{x1,h1}, w_{x1,h2}, w_{x2,h1}, w_{x2,h2}], w2 = [w_{h1,h3}, w_{h1,h4}, w_{h2,h3},
// w_{h2,h4}], w3 = [w_{h3,y}, w_{h4,y}].
const WEIGHTS = [
  ['w1', 0, 'x1', 'h1'], ['w1', 1, 'x1', 'h2'], ['w1', 2, 'x2', 'h1'], ['w1', 3, 'x2', 'h2'],
  ['w2', 0, 'h1', 'h3'], ['w2', 1, 'h1', 'h4'], ['w2', 2, 'h2', 'h3'], ['w2', 3, 'h2', 'h4'],
  ['w3', 0, 'h3', 'y'], ['w3', 1, 'h4', 'y'],
].map(([group, index, from, to]) => ({group, index, from, to, name: `w_{${from},${to}}`}));
const UNITS = ['h1', 'h2', 'h3', 'h4', 'y'];

const sub = (name) => name.replace(/^(\w+?)(\d)$/, '$1<sub>$2</sub>');  // h1 -> h<sub>1</sub>
const weightHtml = (w) => `w<sub>${w.from},${w.to}</sub>`;  // the slides' w_{x1,h1}

// ---------------------------------------------------------------------------------------------
// Colours, after playground.tensorflow.org: class 0 orange, class 1 blue, white in between.
const ORANGE = [245, 147, 34], BLUE = [8, 119, 189], MID = [232, 234, 235];
function makeLut(lighten) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; ++i) {
    const t = i / 255 * 2 - 1, end = t < 0 ? ORANGE : BLUE, f = Math.abs(t);
    for (let c = 0; c < 3; ++c) {
      const v = MID[c] + (end[c] - MID[c]) * f;
      lut[3 * i + c] = v + (255 - v) * lighten;
    }
  }
  return lut;
}
const LUT_MAP = makeLut(0.25), LUT_UNIT = makeLut(0);

// Paints values (row by row from the top) mapped by toUnit to [-1, 1] onto a canvas.
const scratch = document.createElement('canvas');
function paintGrid(canvas, values, resolution, toUnit, lut) {
  scratch.width = scratch.height = resolution;
  const sctx = scratch.getContext('2d');
  const image = sctx.createImageData(resolution, resolution);
  for (let k = 0; k < values.length; ++k) {
    let t = toUnit(values[k]);
    if (!(t === t)) t = 0;  // NaN
    const i = Math.round((Math.max(-1, Math.min(1, t)) + 1) * 127.5);
    image.data[4 * k] = lut[3 * i];
    image.data[4 * k + 1] = lut[3 * i + 1];
    image.data[4 * k + 2] = lut[3 * i + 2];
    image.data[4 * k + 3] = 255;
  }
  sctx.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

// A point of the plane to the heat map's pixels (y up).
function planeToCanvas(W, H) {
  return {toX: (x) => (x + VIEW_HALF) / (2 * VIEW_HALF) * W, toY: (y) => (VIEW_HALF - y) / (2 * VIEW_HALF) * H};
}

// The plane's axes through 0 and their ticks at -1 and 1, over the heat map.
function drawAxes(ctx, W, H, toX, toY) {
  ctx.strokeStyle = 'rgba(0,0,0,0.12)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(toX(0), 0); ctx.lineTo(toX(0), H); ctx.moveTo(0, toY(0)); ctx.lineTo(W, toY(0));
  ctx.stroke();
  ctx.fillStyle = 'rgba(0,0,0,0.45)';
  ctx.font = '10px sans-serif';
  for (const v of [-1, 1]) {
    ctx.fillText(String(v), toX(v) - 4, H - 3);
    ctx.fillText(String(v), 3, toY(v) + 3);
  }
}

// ---------------------------------------------------------------------------------------------
// Part 1: the course's network.
class CoursePanel {
  constructor(M) {
    this.M = M;
    this.input = M.slidesInput();
    this.which = 'slides';
    this.stepsTaken = 0;
    this.result = null;
    this.buildSvg();
    this.buildTables();
    for (const key of ['x1', 'x2', 'y', 'alpha']) {
      const el = $('in-' + key);
      el.addEventListener('input', () => this.edit(() => (this.input[key] = parseNumber(el.value))));
    }
    $('course-slides').onclick = () => this.load(M.slidesInput(), 'slides');
    $('course-exercise').onclick = () => this.load(M.exerciseInput(), 'exercise');
    $('course-take').onclick = () => this.takeStep();
    $('shape-error-button').onclick = () => {
      const box = $('shape-error');
      box.textContent = 'ag::matmul of a [1, 2] row by a [3, 1] column, thrown by the engine and caught:\n' + M.shapeErrorExample();
      box.hidden = false;
    };
    this.fillInputs();
    this.update();
  }

  load(input, which) {
    this.input = input;
    this.which = which;
    this.stepsTaken = 0;
    this.fillInputs();
    this.update();
  }

  edit(change) {
    change();
    this.which = 'edited';
    this.update();
  }

  takeStep() {
    if (!this.result || this.result.error) return;
    const u = this.result.updated;
    this.input = {...this.input, w1: Array.from(u.w1), w2: Array.from(u.w2), w3: Array.from(u.w3)};
    this.stepsTaken += 1;
    this.fillInputs();
    this.update();
  }

  fillInputs() {
    for (const key of ['x1', 'x2', 'y', 'alpha']) $('in-' + key).value = String(this.input[key]);
    for (const w of WEIGHTS) w.input.value = String(this.input[w.group][w.index]);
    for (const el of document.querySelectorAll('#course input')) el.classList.remove('invalid');
  }

  buildTables() {
    const units = $('units-table').tBodies[0];
    this.cells = {};
    for (const u of UNITS) {
      const tr = units.insertRow();
      tr.innerHTML = `<th>${sub(u)}</th><td class="num" data-fig="in_${u}"></td><td class="num" data-fig="a_${u}"></td><td class="num" data-fig="Delta_${u}"></td><td class="formula" data-fig="formula_${u}"></td>`;
    }
    const weights = $('weights-table').tBodies[0];
    for (const w of WEIGHTS) {
      const tr = weights.insertRow();
      tr.dataset.weight = w.name;
      tr.innerHTML = `<th>${weightHtml(w)}</th><td><input type="text" inputmode="decimal" aria-label="${w.name}"></td>` +
          `<td class="num" data-fig="grad_${w.name}"></td><td class="num updated" data-fig="new_${w.name}"></td><td class="formula"></td>`;
      w.input = tr.querySelector('input');
      w.formula = tr.querySelector('.formula');
      w.row = tr;
      w.input.addEventListener('input', () => this.edit(() => (this.input[w.group][w.index] = parseNumber(w.input.value))));
      w.input.addEventListener('focus', () => this.highlight(w, true));
      w.input.addEventListener('blur', () => this.highlight(w, false));
    }
    for (const td of document.querySelectorAll('#course [data-fig]')) this.cells[td.dataset.fig] = td;
  }

  buildSvg() {
    const svg = $('course-svg');
    // Two rows of units; a unit of the top row carries its figures above it, one of the bottom
    // row (and the output) below it, which leaves the band between the rows to the weights.
    const pos = {x1: [60, 120], x2: [60, 250], h1: [260, 120], h2: [260, 250], h3: [460, 120], h4: [460, 250], y: [620, 185]};
    this.pos = pos;
    const el = (tag, attrs, parent = svg) => {
      const e = document.createElementNS(svgNS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      parent.appendChild(e);
      return e;
    };
    for (const w of WEIGHTS) {
      const [x1, y1] = pos[w.from], [x2, y2] = pos[w.to];
      const g = el('g', {class: 'edge'});
      el('title', {}, g).textContent = w.name + ' (click to edit)';
      w.line = el('line', {x1, y1, x2, y2, class: 'edge-line'}, g);
      el('line', {x1, y1, x2, y2, class: 'edge-hit'}, g);
      // Labels: a straight edge's at its middle (above the top row's, below the bottom row's),
      // a crossing edge's a quarter of the way from its source.
      const crossing = y1 !== y2 && w.to !== 'y';
      const t = crossing ? 0.25 : 0.5;
      const above = crossing ? y1 < y2 : y1 < 185;
      const lx = x1 + (x2 - x1) * t + (crossing ? 22 : 0), ly = y1 + (y2 - y1) * t + (above ? -7 : 15);
      w.label = el('text', {x: lx, y: ly, class: 'edge-label', 'text-anchor': 'middle'}, g);
      g.addEventListener('click', () => w.input.focus());
      w.group_el = g;
    }
    this.nodes = {};
    for (const [name, [x, y]] of Object.entries(pos)) {
      const g = el('g', {class: 'node' + (name[0] === 'x' ? ' input' : '')});
      const circle = el('circle', {cx: x, cy: y, r: 24}, g);
      const label = el('text', {x, y: y + 5, class: 'node-name', 'text-anchor': 'middle'}, g);
      label.innerHTML = name.length === 2 ? `${name[0]}<tspan dy="4" font-size="11">${name[1]}</tspan>` : name;
      const top = y < 185;  // figures above the unit: Delta, in, a from the top down
      const at = (k) => (top ? y - 34 - 15 * (2 - k) : y + 42 + 15 * k);
      const delta = el('text', {x, y: top ? at(0) : at(2), class: 'node-delta', 'text-anchor': 'middle'}, g);
      const in_ = el('text', {x, y: top ? at(1) : at(0), class: 'node-value', 'text-anchor': 'middle'}, g);
      const a = el('text', {x, y: top ? at(2) : at(1), class: 'node-value', 'text-anchor': 'middle'}, g);
      this.nodes[name] = {circle, below1: in_, below2: a, above: delta};
    }
  }

  highlight(w, on) {
    w.group_el.classList.toggle('focused', on);
    w.row.classList.toggle('focused', on);
  }

  update() {
    const r = this.M.courseStep(this.input);
    const error = r.error || '';
    $('course-error').hidden = !error;
    $('course-error').textContent = error ? 'The engine refused the input: ' + error : '';
    for (const key of ['x1', 'x2', 'y', 'alpha']) $('in-' + key).classList.toggle('invalid', !isFinite(this.input[key]));
    for (const w of WEIGHTS) w.input.classList.toggle('invalid', !isFinite(this.input[w.group][w.index]));
    $('course').classList.toggle('stale', !!error);
    this.describe();
    if (error) return;  // the last good figures stay, greyed
    this.result = r;
    const f = r.forward, d = r.delta, c = this.cells;
    for (const u of UNITS) {
      c['in_' + u].textContent = fixed6(f['in_' + u]);
      c['a_' + u].textContent = fixed6(f['a_' + u]);
      c['Delta_' + u].textContent = fixed6(d[u]);
    }
    $('course-loss').textContent = fixed6(r.loss);
    // The slides' formulas for the Deltas, on the engine's figures (rounded to 3 decimals).
    const s3 = (v) => String(+(+v).toFixed(3)), W = (g, i) => s3(this.input[g][i]);
    const back = (u, terms) => `${s3(f['a_' + u])} (1 − ${s3(f['a_' + u])}) ${terms}`;
    const sum = (pairs) => pairs.length === 1 ? `× ${pairs[0][0]} × ${pairs[0][1]}` : `(${pairs.map(([w, dd]) => `${w} × ${dd}`).join(' + ')})`;
    c.formula_y.textContent = `y − a = ${s3(this.input.y)} − ${s3(f.a_y)}`;
    c.formula_h3.textContent = back('h3', sum([[W('w3', 0), s3(d.y)]]));
    c.formula_h4.textContent = back('h4', sum([[W('w3', 1), s3(d.y)]]));
    c.formula_h1.textContent = back('h1', sum([[W('w2', 0), s3(d.h3)], [W('w2', 1), s3(d.h4)]]));
    c.formula_h2.textContent = back('h2', sum([[W('w2', 2), s3(d.h3)], [W('w2', 3), s3(d.h4)]]));
    const a = {x1: this.input.x1, x2: this.input.x2, h1: f.a_h1, h2: f.a_h2, h3: f.a_h3, h4: f.a_h4};
    const short = (v) => String(+v.toFixed(3));
    for (const w of WEIGHTS) {
      const value = this.input[w.group][w.index];
      c['grad_' + w.name].textContent = fixed6(r.gradient[w.group][w.index]);
      c['new_' + w.name].textContent = fixed6(r.updated[w.group][w.index]);
      w.formula.textContent = `${short(value)} + ${short(this.input.alpha)} × ${short(a[w.from])} × ${short(d[w.to])}`;
      w.formula.title = `${w.name} + alpha a_${w.from} Delta_${w.to}, on the engine's figures rounded to 3 decimals`;
      w.label.textContent = (+value).toFixed(4);
      w.line.style.stroke = value >= 0 ? 'var(--blue)' : 'var(--orange)';
      w.line.style.strokeWidth = 1 + 5 * Math.min(Math.abs(value), 5) / 5;
    }
    for (const name of ['x1', 'x2']) {
      this.nodes[name].below1.textContent = '';
      this.nodes[name].below2.textContent = `${name} = ${this.input[name]}`;
    }
    for (const u of UNITS) {
      const n = this.nodes[u];
      n.below1.textContent = `in ${fixed6(f['in_' + u])}`;
      n.below2.textContent = `a ${fixed6(f['a_' + u])}`;
      n.above.textContent = `Δ ${fixed6(d[u])}`;
      const t = f['a_' + u] * 2 - 1, i = Math.round((Math.max(-1, Math.min(1, t)) + 1) * 127.5);
      n.circle.style.fill = `rgb(${LUT_UNIT[3 * i]},${LUT_UNIT[3 * i + 1]},${LUT_UNIT[3 * i + 2]})`;
    }
    $('course-graph').textContent = r.graph;
    $('dot-link').href = 'data:text/vnd.graphviz;charset=utf-8,' + encodeURIComponent(r.dot);
  }

  describe() {
    const i = this.input;
    const base = {
      slides: `The slides' example: x = [2, −1], y = 1, α = 0.2 and the slides' initial weights.`,
      exercise: `Exercise 1: z = [1, 2] with y = 0, on the weights after the slides' step. Does the network predict z's class?`,
      edited: `Your input: x = [${i.x1}, ${i.x2}], y = ${i.y}, α = ${i.alpha}.`,
    }[this.which];
    let text = base + (this.stepsTaken ? ` After ${this.stepsTaken} step${this.stepsTaken > 1 ? 's' : ''}.` : '');
    if (this.result && !this.result.error && this.which === 'exercise' && this.stepsTaken === 0) {
      const ay = this.result.forward.a_y;
      text += ` a_y = ${ay.toFixed(6)}: class ${ay >= 0.5 ? 1 : 0}.`;
    }
    $('course-which').textContent = text;
  }
}

// 12345 -> "12,345" (without Intl, whose first use costs the page's first frame a moment).
const grouped = (n) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

// A number typed by the user: NaN for anything that is not one (the engine then says why).
function parseNumber(text) {
  const t = String(text).trim().replace(/^\u2212/, '-');
  return t === '' ? NaN : Number(t);
}

// ---------------------------------------------------------------------------------------------
// Part 2: live training. The Trainer is in a Web Worker (or, with ?inline, in a TrainingCore on
// this thread); this side keeps the settings, the history of the losses and draws at most once
// per animation frame.
const VIEW = {resolution: 64, unitResolution: 24, extent: 1.2};
// The map's samples include the grid's edges (x = -extent .. extent): the canvas shows half a
// cell more on each side, so that each sample sits at the centre of its pixel block.
const VIEW_HALF = VIEW.extent * VIEW.resolution / (VIEW.resolution - 1);

class TrainingPanel {
  constructor(M) {
    this.config = {
      dataset: 'circles', points: 200, noise: 0, trainFraction: 0.5, seed: 1, hidden: [4, 4],
      activation: 'tanh', learningRate: 0.03, batchSize: 10, l1: 0, l2: 0,
    };
    this.applyParams();
    this.playing = false;
    this.generation = 0;     // of the network: frames of a replaced one are dropped
    this.points = null;
    this.history = {steps: [], train: [], test: []};
    this.frame = null;       // the latest figures
    this.maps = null;        // the latest maps {output, units}
    this.dirty = {maps: false, curve: false};
    this.rafPending = false;
    this.firstDrawn = null;  // resolves on the first frame drawn with maps
    this.firstDrawnPromise = new Promise((resolve) => (this.firstDrawn = resolve));
    this.waiting = {};
    this.bindControls();
    this.buildNetwork();
    this.readyPromise = this.startHost(M);
  }

  applyParams() {
    const c = this.config;
    if (['xor', 'circles', 'spirals', 'gaussians'].includes(params.get('dataset'))) c.dataset = params.get('dataset');
    if (params.has('hidden')) c.hidden = params.get('hidden').split(',').filter((s) => s !== '').map(Number);
    if (params.has('activation')) c.activation = params.get('activation');
    if (params.has('lr')) c.learningRate = Number(params.get('lr'));
    if (params.has('seed')) c.seed = Number(params.get('seed'));
    if (params.has('noise')) c.noise = Number(params.get('noise'));
  }

  startHost(M) {
    const onMessage = (msg) => this.receive(msg);
    if (!earlyWorker) {
      const core = new TrainingCore(M, onMessage);
      this.send = (msg) => core.handle(msg);
      this.mode = 'inline';
      return Promise.resolve();
    }
    this.mode = 'worker';
    return new Promise((resolve, reject) => {
      const worker = earlyWorker.worker;
      this.readyResolve = resolve;
      worker.onmessage = (e) => onMessage(e.data);
      for (const msg of earlyWorker.queue.splice(0)) onMessage(msg);
      worker.onerror = (e) => {
        this.showError('The training worker failed: ' + (e.message || 'see the console'));
        reject(new Error(e.message || 'worker error'));
      };
      this.send = (msg) => worker.postMessage(msg);
    });
  }

  start() {
    this.drawEmpty();  // first: on this thread (?inline), sendConfig draws the first frame at once
    this.sendConfig();
    const steps = Number(params.get('steps') || 0);
    if (steps > 0) this.send({type: 'step', n: steps});
  }

  receive(msg) {
    switch (msg.type) {
      case 'ready':
        this.workerTimeline = msg.timeline;
        if (this.readyResolve) this.readyResolve();
        break;
      case 'fatal':
        this.showError(msg.message);
        setStatus('The training worker could not start: ' + msg.message, true);
        break;
      case 'error':
        this.showError(msg.message);
        this.setPlaying(false);
        break;
      case 'points':
        if (msg.generation !== this.generation) break;  // from a network since replaced
        this.points = msg;
        this.dirty.maps = true;
        if (this.maps) this.requestDraw();  // else the frame with the maps, next, draws them
        break;
      case 'stopped':
        this.showError(msg.reason);
        this.setPlaying(false);
        break;
      case 'frame':
        this.receiveFrame(msg);
        break;
      case 'gradcheck':
      case 'timing': {
        const resolve = this.waiting[msg.type];
        delete this.waiting[msg.type];
        if (resolve) resolve(msg);
        break;
      }
    }
  }

  receiveFrame(msg) {
    if (msg.generation !== this.generation) return;  // from a network since replaced
    if (!this.firstFrameAt && msg.output) {  // when the first maps left the worker and got here
      this.firstFrameAt = {sent: msg.sentAt - performance.timeOrigin, received: performance.now()};
    }
    const h = this.history;
    for (const [steps, train, test] of msg.history) {
      if (h.steps.length && steps <= h.steps[h.steps.length - 1]) continue;  // a step(0) frame again
      h.steps.push(steps);
      h.train.push(train);
      h.test.push(test);
    }
    if (h.steps.length > 2000) {  // keep every other point: the curve keeps its shape
      for (const key of ['steps', 'train', 'test']) h[key] = h[key].filter((_, i) => i % 2 === 0 || i === h[key].length - 1);
    }
    this.frame = msg.figures;
    this.dirty.curve = true;
    if (msg.output) {
      this.maps = {output: msg.output, units: msg.units};
      this.dirty.maps = true;
    }
    if (!this.firstDrawnAt && msg.output && !this.rafPending) {
      this.draw();  // the first maps at once: the page is ready as soon as they are on the canvases
      return;
    }
    this.requestDraw();
  }

  request(type, msg) {
    return new Promise((resolve) => {
      this.waiting[type] = resolve;
      this.send(msg);
    });
  }

  requestDraw() {
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => {
      this.rafPending = false;
      this.draw();
    });
  }

  draw() {
    const drewMaps = this.dirty.maps && this.maps && this.points;
    if (drewMaps) {
      this.drawHeatmap();
      this.drawUnits();
      this.dirty.maps = false;
    }
    if (this.dirty.curve && this.frame) {
      this.drawFigures();
      this.drawCurve();
      this.dirty.curve = false;
    }
    if (drewMaps) {
      this.send({type: 'ack'});
      if (!this.firstDrawnAt) this.firstDrawnAt = performance.now();
      this.firstDrawn();
    }
  }

  // The plane's axes on an empty heat map, while the worker builds the network. Drawn now also
  // because the canvases' first text sets up their font, which took up to 160 ms in headless
  // Chromium here: on the first frame it would delay the page's first training maps.
  drawEmpty() {
    const canvas = $('heatmap'), ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height;
    ctx.fillStyle = '#f6f7f8';
    ctx.fillRect(0, 0, W, H);
    const {toX, toY} = planeToCanvas(W, H);
    drawAxes(ctx, W, H, toX, toY);
  }

  drawFigures() {
    const f = this.frame;
    $('steps').textContent = grouped(f.steps);
    $('train-loss').textContent = f.trainLoss.toFixed(3);
    $('test-loss').textContent = f.testLoss.toFixed(3);
    $('train-acc').textContent = `(accuracy ${(100 * f.trainAccuracy).toFixed(1)}%)`;
    $('test-acc').textContent = `(accuracy ${(100 * f.testAccuracy).toFixed(1)}%)`;
  }

  drawHeatmap() {
    const canvas = $('heatmap'), ctx = canvas.getContext('2d');
    const discrete = $('discretize').checked, hover = this.hover;
    const unit = hover && this.maps.units.find((u) => u.layer === hover.layer && u.unit === hover.unit);
    if (unit) {  // a hidden unit's map, while the pointer is on it
      paintGrid(canvas, unit.values, VIEW.unitResolution, this.config.activation === 'sigmoid' ? (v) => 2 * v - 1 : (v) => v, LUT_MAP);
    } else {
      paintGrid(canvas, this.maps.output, VIEW.resolution, discrete ? (p) => (p >= 0.5 ? 1 : -1) : (p) => 2 * p - 1, LUT_MAP);
    }
    const W = canvas.width, H = canvas.height, {toX, toY} = planeToCanvas(W, H);
    drawAxes(ctx, W, H, toX, toY);
    const p = this.points, showTest = $('show-test').checked;
    for (const pass of [0, 1]) {  // test points under the training points
      for (let i = 0; i < p.label.length; ++i) {
        const train = p.train[i] === 1;
        if ((pass === 0) === train || (!train && !showTest)) continue;
        const x = toX(p.x[2 * i]), y = toY(p.x[2 * i + 1]), col = p.label[i] >= 0.5 ? BLUE : ORANGE;
        ctx.beginPath();
        ctx.arc(x, y, train ? 3.6 : 3.4, 0, 2 * Math.PI);
        if (train) {
          ctx.fillStyle = `rgb(${col})`;
          ctx.fill();
          ctx.strokeStyle = 'white';
          ctx.lineWidth = 1;
          ctx.stroke();
        } else {
          ctx.strokeStyle = `rgb(${col})`;
          ctx.lineWidth = 2;
          ctx.stroke();
          ctx.strokeStyle = 'rgba(0,0,0,0.6)';
          ctx.lineWidth = 0.7;
          ctx.beginPath();
          ctx.arc(x, y, 4.8, 0, 2 * Math.PI);
          ctx.stroke();
        }
      }
    }
  }

  drawUnits() {
    const a = this.config.activation;
    const toUnit = a === 'sigmoid' ? (v) => 2 * v - 1 : (v) => v;
    for (const u of this.maps.units) {
      const canvas = this.unitCanvases[u.layer] && this.unitCanvases[u.layer][u.unit];
      if (canvas) paintGrid(canvas, u.values, VIEW.unitResolution, toUnit, LUT_UNIT);
    }
  }

  drawCurve() {
    const canvas = $('loss-canvas'), ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const h = this.history, n = h.steps.length;
    ctx.fillStyle = '#f6f7f8';
    ctx.fillRect(0, 0, W, H);
    if (n === 0) return;
    let top = 0.1;
    for (let i = 0; i < n; ++i) {
      if (isFinite(h.train[i])) top = Math.max(top, h.train[i]);
      if (isFinite(h.test[i])) top = Math.max(top, h.test[i]);
    }
    const first = h.steps[0], last = Math.max(h.steps[n - 1], first + 1);
    const x = (s) => 4 + (s - first) / (last - first) * (W - 8), y = (v) => H - 4 - Math.min(v, top) / top * (H - 14);
    for (const [key, colour, width] of [['train', '#8a9aa8', 1.6], ['test', '#1f2a33', 1.3]]) {
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (let i = 0; i < n; ++i) (i ? ctx.lineTo : ctx.moveTo).call(ctx, x(h.steps[i]), y(h[key][i]));
      ctx.stroke();
    }
    ctx.fillStyle = '#555';
    ctx.font = '10px sans-serif';
    ctx.fillText(top.toFixed(2), 4, 10);
    ctx.fillText(`${grouped(last)} steps`, W - 70, 10);
  }

  // The network column: the two inputs, then a column of unit maps per hidden layer, each with
  // its + / - buttons.
  buildNetwork() {
    const net = $('network');
    net.textContent = '';
    this.unitCanvases = [];
    this.hover = null;
    const column = (title, canvases, layer) => {
      const col = document.createElement('div');
      col.className = 'layer';
      const head = document.createElement('div');
      head.className = 'layer-head';
      if (layer !== undefined) {
        const minus = document.createElement('button'), plus = document.createElement('button');
        minus.className = plus.className = 'round small';
        minus.textContent = '\u2212';
        plus.textContent = '+';
        minus.title = 'one unit fewer';
        plus.title = 'one unit more';
        minus.onclick = () => this.changeUnits(layer, -1);
        plus.onclick = () => this.changeUnits(layer, +1);
        const row = document.createElement('div');
        row.className = 'layer-buttons';
        row.append(minus, plus);
        head.append(row);
      }
      const label = document.createElement('div');
      label.className = 'layer-title';
      label.textContent = title;
      head.append(label);
      col.append(head);
      for (const c of canvases) col.append(c);
      net.append(col);
    };
    const unitCanvas = (title) => {
      const c = document.createElement('canvas');
      c.width = c.height = 44;
      c.className = 'unit';
      c.title = title;
      return c;
    };
    const inputs = [unitCanvas('x1: the first coordinate'), unitCanvas('x2: the second coordinate')];
    const ramp = new Float32Array(VIEW.unitResolution * VIEW.unitResolution);
    for (const [k, canvas] of inputs.entries()) {
      const r = VIEW.unitResolution;
      for (let i = 0; i < r; ++i) for (let j = 0; j < r; ++j) ramp[i * r + j] = k === 0 ? -1 + 2 * j / (r - 1) : 1 - 2 * i / (r - 1);
      paintGrid(canvas, ramp, r, (v) => v, LUT_UNIT);
    }
    column('inputs', inputs);
    this.config.hidden.forEach((units, layer) => {
      const canvases = [];
      for (let u = 0; u < units; ++u) {
        const c = unitCanvas(`hidden layer ${layer + 1}, unit ${u + 1} (the output map shows it while the pointer is here)`);
        c.addEventListener('mouseenter', () => this.setHover({layer, unit: u}));
        c.addEventListener('mouseleave', () => this.setHover(null));
        canvases.push(c);
      }
      this.unitCanvases.push(canvases);
      column(`${units} unit${units > 1 ? 's' : ''}`, canvases, layer);
    });
    const n = this.config.hidden.length;
    $('layer-count').textContent = `${n} hidden layer${n === 1 ? '' : 's'}`;
    $('add-layer').disabled = n >= 6;
    $('remove-layer').disabled = n === 0;
  }

  setHover(which) {
    this.hover = which;
    this.dirty.maps = true;
    this.requestDraw();
  }

  changeUnits(layer, delta) {
    const units = this.config.hidden[layer] + delta;
    if (units < 1 || units > 8) return;
    this.config.hidden[layer] = units;
    this.architectureChanged();
  }

  architectureChanged() {
    this.buildNetwork();
    this.maps = null;
    this.sendConfig();
  }

  bindControls() {
    const c = this.config;
    const datasetButtons = document.querySelectorAll('#datasets button');
    const markDataset = () => datasetButtons.forEach((b) => {
      b.classList.toggle('selected', b.dataset.dataset === c.dataset);
      b.setAttribute('aria-checked', b.dataset.dataset === c.dataset);
    });
    datasetButtons.forEach((b) => (b.onclick = () => {
      c.dataset = b.dataset.dataset;
      markDataset();
      this.sendConfig();
    }));
    markDataset();
    const slider = (id, out, apply, show) => {
      const el = $(id);
      const sync = () => ($(out).textContent = show(Number(el.value)));
      el.addEventListener('input', sync);
      el.addEventListener('change', () => {
        apply(Number(el.value));
        this.sendConfig();
      });
      return {el, sync};
    };
    const tf = slider('train-fraction', 'train-fraction-out', (v) => (c.trainFraction = v / 100), (v) => v + '%');
    const noise = slider('noise', 'noise-out', (v) => (c.noise = v / 100), (v) => String(v / 100));
    const batch = slider('batch', 'batch-out', (v) => (c.batchSize = v), (v) => String(v));
    tf.el.value = Math.round(c.trainFraction * 100);
    noise.el.value = Math.round(c.noise * 100);
    batch.el.value = c.batchSize;
    [tf, noise, batch].forEach((s) => s.sync());
    const select = (id, apply) => {
      const el = $(id);
      el.addEventListener('change', () => {
        apply(el.value);
        this.sendConfig();
      });
      return el;
    };
    select('learning-rate', (v) => (c.learningRate = Number(v))).value = String(c.learningRate);
    select('activation', (v) => (c.activation = v)).value = c.activation;
    select('l1', (v) => (c.l1 = Number(v)));
    select('l2', (v) => (c.l2 = Number(v)));
    $('speed').addEventListener('change', () => this.send({type: 'speed', stepsPerFrame: Number($('speed').value)}));
    $('regenerate').onclick = () => {
      c.seed += 1;
      this.sendConfig();
    };
    $('add-layer').onclick = () => {
      if (c.hidden.length >= 6) return;
      c.hidden.push(c.hidden.length ? c.hidden[c.hidden.length - 1] : 4);
      this.architectureChanged();
    };
    $('remove-layer').onclick = () => {
      if (!c.hidden.length) return;
      c.hidden.pop();
      this.architectureChanged();
    };
    $('play').onclick = () => this.setPlaying(!this.playing);
    $('step').onclick = () => {
      this.setPlaying(false);
      this.send({type: 'step', n: 1});
    };
    $('reset').onclick = () => this.sendConfig();
    for (const id of ['show-test', 'discretize']) {
      $(id).addEventListener('change', () => {
        this.dirty.maps = true;
        this.requestDraw();
      });
    }
    $('gradcheck').onclick = async () => {
      const out = $('gradcheck-result');
      out.className = 'gradcheck-result';
      out.textContent = 'checking…';
      const {result: r} = await this.request('gradcheck', {type: 'gradcheck'});
      out.classList.add(r.passed ? 'pass' : 'fail');
      out.textContent = `${r.passed ? 'passed' : 'FAILED'}: ${r.checked} parameters at step ${r.steps}, ` +
          `largest error ${Number(r.maxError).toExponential(2)} (${r.milliseconds.toFixed(0)} ms)` + (r.message ? ` ${r.message}` : '');
      out.title = r.message || '';
    };
    document.addEventListener('keydown', (e) => {
      if (e.target.closest && e.target.closest('input, select, textarea, button')) return;
      if (e.key === ' ') {
        e.preventDefault();
        this.setPlaying(!this.playing);
      } else if (e.key === 's' || e.key === 'S') {
        $('step').click();
      } else if (e.key === 'r' || e.key === 'R') {
        $('reset').click();
      }
    });
  }

  setPlaying(on) {
    if (this.playing === on) return;
    this.playing = on;
    $('play').innerHTML = on ? '&#x23F8; Pause' : '&#x25B6; Play';
    $('play').classList.toggle('playing', on);
    this.send({type: on ? 'play' : 'pause'});
  }

  sendConfig() {
    $('train-error').hidden = true;
    this.history = {steps: [], train: [], test: []};
    this.generation += 1;
    this.send({type: 'speed', stepsPerFrame: Number($('speed').value)});
    this.send({type: 'config', config: {...this.config, hidden: this.config.hidden.slice()}, view: VIEW, generation: this.generation});
    if (this.playing) this.send({type: 'play'});
  }

  showError(message) {
    $('train-error').textContent = message;
    $('train-error').hidden = false;
  }
}

// ---------------------------------------------------------------------------------------------
function setStatus(text, bad) {
  $('status').textContent = text;
  $('status').classList.toggle('bad', !!bad);
}

// The self-test (?selftest): everything on this thread, synchronously where it can be, because
// headless Chromium's virtual time (--virtual-time-budget) does not wait for a worker. One
// "key=value" line per figure in #selftest-log, numbers at full double precision.
function selfTest(M) {
  const box = $('selftest'), log = $('selftest-log');
  $('selftest-section').hidden = false;
  const lines = [];
  const put = (key, value) => lines.push(`${key}=${typeof value === 'number' ? String(value) : String(value).replace(/\n/g, '\\n')}`);
  const t0 = performance.now();
  try {
    const course = (prefix, input) => {
      const r = M.courseStep(input);
      if (r.error) throw new Error(`courseStep(${prefix}): ${r.error}`);
      for (const u of UNITS) {
        put(`${prefix}.in_${u}`, r.forward['in_' + u]);
        put(`${prefix}.a_${u}`, r.forward['a_' + u]);
      }
      put(`${prefix}.loss`, r.loss);
      for (const u of UNITS) put(`${prefix}.Delta_${u}`, r.delta[u]);
      for (const w of WEIGHTS) put(`${prefix}.dLoss/d${w.name}`, r.gradient[w.group][w.index]);
      for (const w of WEIGHTS) put(`${prefix}.updated.${w.name}`, r.updated[w.group][w.index]);
      return r;
    };
    course('course', M.slidesInput());
    course('exercise', M.exerciseInput());
    const bad = M.courseStep({...M.slidesInput(), x1: NaN});
    put('course.nan_error', bad.error || '');
    const short = M.courseStep({...M.slidesInput(), w3: [1]});
    put('course.length_error', short.error || '');

    put('shape_error', M.shapeErrorExample());

    const badTrainer = new M.Trainer({dataset: 'moons', points: 200, hidden: [8, 8]});
    put('trainer.config_error', badTrainer.error());
    badTrainer.delete();

    const config = {dataset: 'xor', points: 200, noise: 0, trainFraction: 0.5, seed: 1, hidden: [8, 8],
                    activation: 'tanh', learningRate: 0.1, batchSize: 10, l1: 0, l2: 0};
    const t = new M.Trainer(config);
    try {
      if (t.error()) throw new Error('Trainer(xor): ' + t.error());
      put('xor.config', JSON.stringify(config));
      const limit = 20000, start = performance.now();
      let f = t.step(0);
      while (f.trainAccuracy < 1 && f.steps < limit) {
        f = t.step(25);
        if (f.error) throw new Error('step: ' + f.error);
      }
      put('xor.steps', f.steps);
      put('xor.step_limit', limit);
      put('xor.train_accuracy', f.trainAccuracy);
      put('xor.test_accuracy', f.testAccuracy);
      put('xor.train_loss', f.trainLoss);
      put('xor.test_loss', f.testLoss);
      put('xor.milliseconds', performance.now() - start);
      const map = t.outputMap(16, 1);
      put('xor.output_map_size', map.length);
      put('xor.unit_maps', t.unitMaps(8, 1).length);
      const g = t.gradcheck();
      if (g.error) throw new Error('gradcheck: ' + g.error);
      put('gradcheck.passed', g.passed ? 1 : 0);
      put('gradcheck.max_error', g.maxError);
      put('gradcheck.checked', g.checked);
      put('gradcheck.message', g.message);
    } finally {
      t.delete();
    }
    put('selftest.milliseconds', performance.now() - t0);
    put('status', 'done');
    box.dataset.status = 'done';
    box.dataset.done = '1';
  } catch (e) {
    put('status', 'failed');
    put('reason', (e && e.message) || String(e));
    box.dataset.status = 'failed';
    box.dataset.reason = (e && e.message) || String(e);
  }
  log.textContent = lines.join('\n') + '\n';
  setStatus(`Self-test ${box.dataset.status}.`, box.dataset.status !== 'done');
}

// ---------------------------------------------------------------------------------------------
// The worker starts at once (in the page's <head>, else here), so that it is up while this thread
// loads the module; its messages wait in a queue until the training panel takes it over.
const early = window.playgroundEarly || {};
const earlyWorker = (() => {
  if (params.has('selftest') || params.has('inline') || typeof Worker === 'undefined') return null;
  if (early.worker) return early.worker;
  const worker = new Worker('worker.js'), queue = [];
  worker.onmessage = (e) => queue.push(e.data);
  return {worker, queue};
})();

// playground.wasm is compiled once, on this thread (the compilation started in the <head>), and
// the compiled WebAssembly.Module is handed to the worker: the two instances share one
// compilation. Without streaming compilation the module and the worker each load it themselves.
const compiledWasm = (early.wasm ? early.wasm
  : typeof WebAssembly === 'object' && typeof WebAssembly.compileStreaming === 'function'
    ? WebAssembly.compileStreaming(fetch('playground.wasm', {credentials: 'same-origin'}))
    : Promise.resolve(null)).catch((e) => {
  console.warn('playground.wasm: no streaming compilation, the module loads it itself:', e);
  return null;
});
if (earlyWorker) compiledWasm.then((wasm) => earlyWorker.worker.postMessage({type: 'init', wasm}));

function instantiateWith(wasm) {
  return wasm ? {instantiateWasm: (imports, receive) => {
    WebAssembly.instantiate(wasm, imports).then((instance) => receive(instance, wasm), (e) => {
      setStatus('The engine did not instantiate: ' + ((e && e.message) || e), true);
    });
    return {};
  }} : {};
}

let engine = null, training = null;
const ready = (async () => {
  const tStart = performance.now();
  // With a worker, the training panel starts at once: its messages wait in the worker until the
  // worker's module is ready, which happens while this thread builds the course's panel.
  if (earlyWorker) {
    training = new TrainingPanel(null);
    training.start();
  }
  let M;
  try {
    M = await createPlayground(instantiateWith(await compiledWasm));
  } catch (e) {
    setStatus('The engine did not load: ' + ((e && e.message) || e), true);
    if (params.has('selftest')) {
      $('selftest-section').hidden = false;
      $('selftest').dataset.status = 'failed';
      $('selftest-log').textContent = `status=failed\nreason=the module did not load: ${(e && e.message) || e}\n`;
    }
    throw e;
  }
  engine = M;
  window.playgroundModuleAt = performance.now();
  new CoursePanel(M);
  window.playgroundCourseReadyAt = performance.now();
  if (params.has('selftest')) {
    setStatus('Self-test running…');
    // Let the page paint once, then run.
    await new Promise((resolve) => setTimeout(resolve, 0));
    selfTest(M);
    return;
  }
  if (!training) {  // ?inline: the Trainer on this thread
    training = new TrainingPanel(M);
    training.start();
  }
  await training.readyPromise;
  await training.firstDrawnPromise;
  window.playgroundReadyAt = performance.now();
  setStatus(`Ready: the engine loaded in ${(window.playgroundModuleAt - tStart).toFixed(0)} ms; ` +
            `interactive ${window.playgroundReadyAt.toFixed(0)} ms after navigation; training in ${training.mode === 'worker' ? 'a Web Worker' : 'this thread'}.`);
})();
ready.catch((e) => console.error(e));

// Three figures in a row within 5% of each other: the code they time has settled.
function steady(recent) {
  return recent.length === 3 && Math.max(...recent) < 1.05 * Math.min(...recent);
}

// Timings for WebDriver (tests/playground/timings.py), not part of the self-test: the course
// step's mean over calls on the slides' input, training steps per 16 ms frame in the worker for
// the 2-8-8-1 network at the page's batch size (10 of 100 training points) and at a full batch
// of 200 points, and how long the page took to become interactive.
window.playgroundTimings = async function () {
  await ready;
  const M = engine, input = M.slidesInput();
  // Training paused first: the worker would otherwise take the other core (or this one) from the
  // course step's timing.
  const wasPlaying = training.playing;
  training.setPlaying(false);
  await new Promise((resolve) => setTimeout(resolve, 100));  // the worker's current frame of steps ends
  // The median of 5 means of `calls` calls.
  const calls = 2000;
  const timeCalls = (step) => {
    // Warm-up: Chromium runs WebAssembly first on its baseline compiler and swaps in optimised code
    // for a function once it is hot, compiled on a background thread; on this call that took about
    // a second (a fixed half second left runs of 20 to 70 us in one timing). So runs of 200 calls
    // until three in a row agree within 5%, for at least 1.5 s and at most 5 s.
    const mean = (n) => {
      const start = performance.now();
      for (let i = 0; i < n; ++i) step(input);
      return 1000 * (performance.now() - start) / n;
    };
    for (const begin = performance.now(), recent = []; ;) {
      recent.push(mean(200));
      if (recent.length > 3) recent.shift();
      const elapsed = performance.now() - begin;
      if (elapsed > 5000 || (elapsed > 1500 && steady(recent))) break;
    }
    const runs = [];  // in the order run
    for (let run = 0; run < 5; ++run) runs.push(mean(calls));
    return runs;
  };
  const median = (runs) => runs.slice().sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  // The step's figures as JavaScript objects (what the target compares with native), and the
  // call the page makes on each edit, which also writes the recorded graph's table and DOT.
  const figures = typeof M.courseStepFigures === 'function' ? timeCalls(M.courseStepFigures) : null;
  const runs = timeCalls(M.courseStep);
  // The engine's own figure without the calls' JavaScript side, if the module can time it.
  const inside = typeof M.timeCourseSteps === 'function' ? 1000 * M.timeCourseSteps(input, calls) / calls : null;
  const net = {dataset: 'xor', noise: 0, seed: 1, hidden: [8, 8], activation: 'tanh', learningRate: 0.03, l1: 0, l2: 0};
  const configs = [
    {...net, points: 200, trainFraction: 0.5, batchSize: 10},
    {...net, points: 400, trainFraction: 0.5, batchSize: 200},
  ];
  const {results} = await training.request('timing', {type: 'timing', configs});
  if (wasPlaying) training.setPlaying(true);
  return {
    courseStepMicroseconds: median(runs),  // M.courseStep, with the graph's texts
    courseStepMicrosecondsRuns: runs,
    courseStepFiguresMicroseconds: figures && median(figures),  // M.courseStepFigures
    courseStepFiguresMicrosecondsRuns: figures,
    courseStepCalls: calls,
    courseStepInsideWasmMicroseconds: inside,  // null: the module has no timeCourseSteps(input, n)
    trainingStepsPer16ms: results[1].stepsPer16ms,  // a full batch of 200 points
    trainingStepsPer16msBatch10: results[0].stepsPer16ms,
    trainingMicrosecondsPerStepBatch200: results[1].microsecondsPerStep,
    trainingMicrosecondsPerStepBatch10: results[0].microsecondsPerStep,
    trainingNote: 'hidden [8, 8] tanh; batch 200: 200 of 400 points per step (a full batch of 200); batch 10: 10 of 100 training points (the page default); measured in the worker',
    trainingErrors: results.map((r) => r.error || '').filter((s) => s),
    interactiveMilliseconds: window.playgroundReadyAt,
    moduleReadyMilliseconds: window.playgroundModuleAt,
    courseReadyMilliseconds: window.playgroundCourseReadyAt,
    trainingMode: training.mode,
    // The worker's stages in milliseconds after navigation start.
    workerTimeline: training.workerTimeline ? Object.fromEntries(Object.entries(training.workerTimeline)
      .map(([k, v]) => [k, v - performance.timeOrigin])) : null,
    firstTrainingFrameDrawn: training.firstDrawnAt,
    firstTrainingFrame: training.firstFrameAt,
    // Where the time to interactive went (milliseconds from navigation start).
    navigation: (() => {
      const n = performance.getEntriesByType('navigation')[0] || {};
      const resources = {};
      for (const r of performance.getEntriesByType('resource')) {
        resources[r.name.replace(/^.*\//, '')] = {start: r.startTime, end: r.responseEnd, bytes: r.transferSize};
      }
      return {responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd, resources};
    })(),
    userAgent: navigator.userAgent,
  };
};
