export { mapLimit } from "../util/parallel";
