// The light worker shared by the widget frames of a page (see app/src/hub.rs). A frame that
// connects while the wasm loads would be lost (its `connect` event fires once), so its port is
// kept here until the worker takes over `onconnect`.
self.taoscopePorts = [];
self.onconnect = (event) => self.taoscopePorts.push(event.ports[0]);
importScripts('/light-worker_loader.js');
