/** Dataset loading: locate, download, read, normalise; then tensors. */
export * from './catalog';
export * from './dataset';
export * from './locate';
export * from './download';
export * from './verify';
export * from './sample';
export * from './mnist';
export * from './tensors';
export * from './onehot';
