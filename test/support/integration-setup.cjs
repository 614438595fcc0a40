// Placeholder; replaced by the infrastructure bootstrap.
module.exports = async () => {};
