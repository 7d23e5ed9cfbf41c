/** Context of the module's log lines. */
export const LOG_CONTEXT = 'PersistentCache';
