// The playground's training loop: owns the engine's Trainer, runs its SGD steps and sends the
// page the loss figures and the maps to draw.
//
// Loaded two ways. As a Web Worker (the page's default), it imports playground.js, builds the
// module and answers the page's messages. As a plain <script> in the page (index.html?inline,
// which the screenshot test uses: headless Chromium's virtual time does not wait for workers),
// it only defines TrainingCore, which app.js then drives directly on the main thread.
//
// The protocol (page -> core; a worker first gets {type: "init", wasm}, see the end of the file):
//   {type: "config", config, view, generation}   a new Trainer (the old one deleted), its points
//                                     and a frame; view = {resolution, unitResolution, extent} for
//                                     the maps; generation comes back in its points and frames
//   {type: "play"} / {type: "pause"}  start / stop the training loop
//   {type: "step", n}                 n steps now, then a frame
//   {type: "speed", stepsPerFrame}    steps per 16 ms while playing; 0: as fast as possible
//   {type: "ack"}                     the page drew the last maps: the next frame may carry maps
//   {type: "gradcheck"}               ag::gradcheck of the current network
//   {type: "timing", configs}         steps per 16 ms for each config, on throwaway Trainers
// and (core -> page):
//   {type: "ready", timeline} | {type: "fatal", message}   (timeline: when the worker started,
//                                     had playground.js, got "init" and had the module)
//   {type: "error", message}          a bad config (the Trainer's own message)
//   {type: "points", generation, x, label, train}
//   {type: "frame", generation, figures, history: [[steps, trainLoss, testLoss], ...], playing,
//    output?: Float32Array, units?: [{layer, unit, values}]}   (maps only when the page acked)
//   {type: "stopped", reason}         the loop stopped by itself (the loss diverged)
//   {type: "gradcheck", result} | {type: "timing", results}
'use strict';

class TrainingCore {
  constructor(module, post) {
    this.M = module;
    this.post = post;  // post(message, transfer list)
    this.trainer = null;
    this.view = {resolution: 64, unitResolution: 24, extent: 1.2};
    this.playing = false;
    this.stepsPerFrame = 10;
    this.mapsWanted = true;  // the page has drawn the last maps
    this.history = [];       // figures since the last frame
    this.figures = null;
    this.lastFrameAt = 0;
    this.chunk = 10;         // steps per slice when running as fast as possible
    this.scheduled = false;
    // A zero-delay task queue (setTimeout is clamped to 4 ms when nested): lets messages such
    // as "pause" in between two slices of training.
    this.channel = new MessageChannel();
    this.channel.port1.onmessage = () => this.tick();
  }

  handle(msg) {
    try {
      switch (msg.type) {
        case 'config': return this.configure(msg.config, msg.view, msg.generation);
        case 'play': this.playing = true; this.schedule(); return this.sendFrame(true);
        case 'pause': this.playing = false; return this.sendFrame(true);
        case 'step': return this.stepNow(msg.n || 1);
        case 'speed': this.stepsPerFrame = Math.max(0, msg.stepsPerFrame | 0); return;
        case 'ack': this.mapsWanted = true; if (!this.playing && this.stale) this.sendFrame(true); return;
        case 'gradcheck': return this.post({type: 'gradcheck', result: this.gradcheck()});
        case 'timing': return this.post({type: 'timing', results: msg.configs.map((c) => this.timing(c))});
        default: throw new Error('unknown message ' + msg.type);
      }
    } catch (e) {
      this.post({type: 'error', message: String(e && e.message || e)});
    }
  }

  configure(config, view, generation) {
    if (view) this.view = view;
    const t = new this.M.Trainer(config);
    const error = t.error();
    if (error) {
      t.delete();
      this.post({type: 'error', message: error});
      return;
    }
    if (this.trainer) this.trainer.delete();
    this.trainer = t;
    this.generation = generation || 0;
    const p = checked(t.points());
    const x = Float32Array.from(p.x), label = Float32Array.from(p.label), train = Uint8Array.from(p.train);
    this.post({type: 'points', generation: this.generation, x, label, train}, [x.buffer, label.buffer, train.buffer]);
    this.figures = checked(t.step(0));
    this.history = [[this.figures.steps, this.figures.trainLoss, this.figures.testLoss]];
    this.mapsWanted = true;
    this.sendFrame(true);
  }

  stepNow(n) {
    if (!this.trainer) return;
    this.figures = checked(this.trainer.step(n));
    this.history.push([this.figures.steps, this.figures.trainLoss, this.figures.testLoss]);
    this.sendFrame(true);
  }

  schedule() {
    if (this.scheduled || !this.playing) return;
    this.scheduled = true;
    if (this.stepsPerFrame > 0) setTimeout(() => this.tick(), 16);
    else this.channel.port2.postMessage(null);
  }

  // One slice of training while playing: stepsPerFrame steps every 16 ms, or as many steps as fit
  // in about 12 ms when running flat out; a frame goes to the page at most every 16 ms.
  tick() {
    this.scheduled = false;
    if (!this.playing || !this.trainer) return;
    try {
      let n = this.stepsPerFrame;
      const start = now();
      if (n === 0) n = this.chunk;
      this.figures = checked(this.trainer.step(n));
      const took = now() - start;
      if (this.stepsPerFrame === 0) {
        // Aim at 12 ms a slice; the loss figures of each slice make one point of the curves.
        this.chunk = Math.max(1, Math.min(100000, Math.round(n * 12 / Math.max(took, 0.05))));
      }
      this.history.push([this.figures.steps, this.figures.trainLoss, this.figures.testLoss]);
      if (!isFinite(this.figures.trainLoss)) {  // diverged: stop and say so
        this.playing = false;
        this.post({type: 'stopped', reason: `the training loss is ${this.figures.trainLoss} after ${this.figures.steps} steps: ` +
                   'the network diverged (try a smaller learning rate), training paused'});
      }
      if (now() - this.lastFrameAt >= 16 || !this.playing) this.sendFrame(false);
    } catch (e) {
      this.playing = false;
      this.post({type: 'error', message: String(e && e.message || e)});
    }
    this.schedule();
  }

  // The figures and history since the last frame; the maps too when the page is ready for them
  // (or always, when force is set and the loop is idle).
  sendFrame(force) {
    if (!this.trainer || !this.figures) return;
    const msg = {type: 'frame', generation: this.generation, figures: this.figures, history: this.history, playing: this.playing,
                 sentAt: performance.timeOrigin + performance.now()};
    const transfer = [];
    if (this.mapsWanted || (force && !this.playing)) {
      const v = this.view;
      msg.output = Float32Array.from(checked(this.trainer.outputMap(v.resolution, v.extent)));
      transfer.push(msg.output.buffer);
      const units = checked(this.trainer.unitMaps(v.unitResolution, v.extent));
      msg.units = [];
      for (let i = 0; i < units.length; ++i) {
        const u = units[i];
        const values = Float32Array.from(u.values);
        msg.units.push({layer: u.layer, unit: u.unit, values});
        transfer.push(values.buffer);
      }
      this.mapsWanted = false;
      this.stale = false;
    } else {
      this.stale = true;
    }
    this.history = [];
    this.lastFrameAt = now();
    this.post(msg, transfer);
  }

  gradcheck() {
    if (!this.trainer) return {passed: false, maxError: NaN, checked: 0, message: 'no network yet'};
    const start = now();
    const r = checked(this.trainer.gradcheck());
    return {passed: !!r.passed, maxError: r.maxError, checked: r.checked, message: r.message,
            milliseconds: now() - start, steps: this.figures ? this.figures.steps : 0};
  }

  // Steps per 16 ms of a throwaway Trainer with the given config (after a warm-up), measured by
  // the module itself (timeSteps) when it can, else around step().
  timing(config) {
    const t = new this.M.Trainer(config);
    try {
      const error = t.error();
      if (error) return {config, error};
      const measure = (n) => {
        if (typeof t.timeSteps === 'function') return checked(t.timeSteps(n));
        const start = now();
        checked(t.step(n));
        return now() - start;
      };
      // Warm-up until the step's optimised code is in (see app.js's playgroundTimings): runs of at
      // least 20 ms (well above the timer's resolution) until three in a row agree within 5%, for
      // at least 1.5 s and at most 5 s.
      let run = 100;
      while (measure(run) < 20 && run < 1e6) run *= 2;
      for (const begin = now(), recent = []; ;) {
        recent.push(measure(run));
        if (recent.length > 3) recent.shift();
        const elapsed = now() - begin;
        if (elapsed > 5000 || (elapsed > 1500 && recent.length === 3 && Math.max(...recent) < 1.05 * Math.min(...recent))) break;
      }
      let n = 200, ms = measure(n);
      while (ms < 200 && n < 1e6) {  // at least 200 ms of training for a steady figure
        n *= 4;
        ms = measure(n);
      }
      return {config, steps: n, milliseconds: ms, microsecondsPerStep: 1000 * ms / n, stepsPer16ms: 16 * n / ms};
    } finally {
      t.delete();
    }
  }
}

function now() {
  return performance.now();
}

// A result of the module, or an exception with its {error} message.
function checked(result) {
  if (result && typeof result.error === 'string' && result.error !== '') throw new Error(result.error);
  return result;
}

// As a Web Worker: build the module and serve the page. The page's first message is
// {type: "init", wasm}: the WebAssembly.Module it compiled (instantiated here without compiling
// it again), or null (then the module fetches and compiles playground.wasm itself).
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  let core = null, started = false;
  const queue = [];
  // When each stage ended, in milliseconds since the epoch (the page subtracts its timeOrigin).
  const at = () => performance.timeOrigin + performance.now();
  const timeline = {workerStart: performance.timeOrigin};
  const fatal = (what, e) => self.postMessage({type: 'fatal', message: `${what}: ${(e && e.message) || e}`});
  const start = (wasm) => {
    timeline.init = at();
    const options = wasm ? {instantiateWasm: (imports, receive) => {
      WebAssembly.instantiate(wasm, imports).then((instance) => receive(instance, wasm),
                                                  (e) => fatal('the module did not instantiate', e));
      return {};
    }} : {};
    createPlayground(options).then((module) => {
      core = new TrainingCore(module, (msg, transfer) => self.postMessage(msg, transfer || []));
      timeline.module = at();
      self.postMessage({type: 'ready', timeline});
      for (const msg of queue.splice(0)) core.handle(msg);
    }, (e) => fatal('the module did not load', e));
  };
  self.onmessage = (e) => {
    if (core) return core.handle(e.data);
    if (!started && e.data && e.data.type === 'init') {
      started = true;
      return start(e.data.wasm || null);
    }
    queue.push(e.data);
  };
  try {
    importScripts('playground.js');
    timeline.script = at();
  } catch (e) {
    fatal('playground.js did not load', e);
  }
}
