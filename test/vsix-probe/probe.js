// A do-nothing extension: it exists so VS Code can run test/vsix-probe/index.js, which checks the
// *installed* (packaged) Kube Delivery extension rather than the working tree.
exports.activate = () => undefined;
