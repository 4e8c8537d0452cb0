/** Every workflow the worker registers (the bundle's entry point). */
export { promiseUpdate } from './promiseUpdate';
export { resourceReconcile } from './resourceReconcile';
export { destinationReconcile } from './destinationReconcile';
export { workPlacementDelete } from './workPlacementDelete';
export { resourceDelete } from './resourceDelete';
export { promiseDelete } from './promiseDelete';
export { promiseRevisionDelete } from './promiseRevisionDelete';
export { destinationDelete } from './destinationDelete';
