/** Every workflow the worker registers (the bundle's entry point). */
export { promiseUpdate } from './promiseUpdate';
export { resourceReconcile } from './resourceReconcile';
export { destinationReconcile } from './destinationReconcile';
export { workPlacementDelete } from './workPlacementDelete';
