export { provisionUserDatabase } from './provision-user-database';
