/** Present in a node's directory from the first moment of create() until its last step. */
export const PARTIAL_MARKER = 'station-partial';
